"""CSV that spreadsheets open safely: text that would start a formula gets a single quote
in front (OWASP, CSV injection), whatever follows; everything else is written as it is."""

from __future__ import annotations

import csv
import io

from hypothesis import given
from hypothesis import strategies as st

from hrdata.spreadsheet import FORMULA_STARTS, csv_text, neutralise

TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)


def read_back(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


@given(start=st.sampled_from(FORMULA_STARTS), rest=TEXT)
def test_text_starting_a_formula_gets_a_single_quote_in_front(start: str, rest: str) -> None:
    cell = start + rest

    assert [["name"], [f"'{cell}"]] == read_back(csv_text(["name"], [[cell]]))


@given(cell=TEXT.filter(lambda text: not text.startswith(FORMULA_STARTS)))
def test_text_that_starts_no_formula_is_written_as_it_is(cell: str) -> None:
    assert cell == neutralise(cell)


@given(number=st.integers() | st.floats(allow_nan=False))
def test_numbers_are_written_as_they_are(number: float) -> None:
    assert number == neutralise(number)


@given(start=st.sampled_from(FORMULA_STARTS), rest=TEXT)
def test_neutralising_twice_changes_nothing_more(start: str, rest: str) -> None:
    once = neutralise(start + rest)

    assert once == neutralise(once)


def test_the_characters_are_those_owasp_names() -> None:
    assert ("=", "+", "-", "@", "\t", "\r") == FORMULA_STARTS
