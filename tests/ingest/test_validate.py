"""Row rules of SPEC §1-2, checked without a database."""

from __future__ import annotations

import random
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hrdata.dictionary import BLANKS, table
from hrdata.dictionary.types import CONTROL
from hrdata.ingest.idset import IdSet
from hrdata.ingest.validate import Rejected, RowChecker, fast_pattern

EMPLOYEES = table("hired_employees")


def checker() -> RowChecker:
    return RowChecker(EMPLOYEES, {"departments": IdSet([1, 2]), "jobs": IdSet([10])})


def codes(fields: list[str]) -> list[tuple[str | None, str]]:
    with pytest.raises(Rejected) as rejected:
        checker().check(fields)
    return [(r.column, r.code) for r in rejected.value.reasons]


def test_valid_row_becomes_copy_values() -> None:
    values = checker().check(["1", " Ada Lovelace ", "2021-11-07T02:48:42Z", "2", "10"])

    assert ["1", "Ada Lovelace", "2021-11-07T02:48:42Z", "2", "10"] == values


def test_leading_zeros_are_the_same_id() -> None:
    assert "7" == checker().check(["007", "A", "2021-01-01T00:00:00Z", "1", "10"])[0]


@pytest.mark.parametrize(
    "raw",
    ["7.0", "1e3", "-1", "0", "000", "\uff13", "3000000000", "+5", "1 2", "9" * 30],
)
def test_rejects_ids_that_are_not_positive_32_bit_integers(raw: str) -> None:
    assert codes([raw, "A", "2021-01-01T00:00:00Z", "1", "10"])[0][0] == "id"


def test_reports_every_reason_not_only_the_first() -> None:
    assert [
        ("id", "not_an_integer"),
        ("name", "missing"),
        ("datetime", "missing_offset"),
        ("department_id", "unknown_reference"),
        ("job_id", "missing"),
    ] == codes(["x", "  ", "2021-01-01T00:00:00", "3", ""])


def test_rejects_datetime_without_offset() -> None:
    assert [("datetime", "missing_offset")] == codes(["1", "A", "2021-11-07T02:48:42", "1", "10"])


def test_rejects_impossible_date() -> None:
    assert [("datetime", "impossible_datetime")] == codes(
        ["1", "A", "2021-02-30T10:00:00Z", "1", "10"]
    )


@pytest.mark.parametrize(
    "raw",
    [
        "2021-11-07",
        "07/11/2021 02:48",
        "2021-11-07T02:48:42+0100",
        "yesterday",
        "2021-11-07 02:48:42Z",
    ],
)
def test_rejects_datetimes_that_are_not_iso_8601_with_offset(raw: str) -> None:
    assert [("datetime", "invalid_datetime")] == codes(["1", "A", raw, "1", "10"])


def test_converts_an_offset_to_utc() -> None:
    values = checker().check(["1", "A", "2021-01-01T01:30:00+02:00", "1", "10"])

    assert "2020-12-31T23:30:00+00:00" == values[2]


def test_rejects_unknown_department_naming_the_missing_id() -> None:
    with pytest.raises(Rejected) as rejected:
        checker().check(["1", "A", "2021-01-01T00:00:00Z", "99", "10"])

    assert "department_id 99 does not exist in departments" == rejected.value.reasons[0].message


def test_rejects_wrong_number_of_fields_as_a_whole() -> None:
    assert [(None, "wrong_field_count")] == codes(["1", "A", "2021-01-01T00:00:00Z", "1"])


def test_rejects_name_longer_than_the_bound() -> None:
    assert [("name", "too_long")] == codes(["1", "A" * 256, "2021-01-01T00:00:00Z", "1", "10"])


def test_rejects_name_with_control_characters() -> None:
    assert [("name", "control_character")] == codes(
        ["1", "A\x00B", "2021-01-01T00:00:00Z", "1", "10"]
    )


def test_escapes_backslash_for_copy() -> None:
    assert "A\\\\N" == checker().check(["1", "A\\N", "2021-01-01T00:00:00Z", "1", "10"])[1]


PIECES = {
    "id": [
        "1",
        "007",
        "0",
        "123456789",
        "1234567890",
        "2147483648",
        " 42 ",
        "4\t",
        "\u00a042",
        "x",
    ],
    "name": [
        "Ada",
        " Ada ",
        "A\\B",
        "\u00a0Ada\u00a0",
        "A\x85B",
        "x" * 255,
        "x" * 256,
        "Ada\x1c",
        "",
        "A\x01",
        "Ã©",
    ],
    "datetime": [
        "2021-11-07T02:48:42Z",
        "2021-02-29T00:00:00Z",
        "2020-02-29T00:00:00Z",
        "2021-04-31T10:00:00Z",
        "2021-04-30T23:59:59Z",
        "0000-01-01T00:00:00Z",
        "2021-01-01T24:00:00Z",
        "2021-01-01T00:00:00.123456Z",
        "2021-01-01T00:00:00.5Z",
        "2021-01-01T00:00:00.1234567Z",
        " 2021-01-01T00:00:60Z ",
        "2021-01-01T00:00Z",
        "2021-01-01T00:00:00+01:00",
    ],
    "department_id": ["1", "2", "02", "3", " 1 "],
    "job_id": ["10", "010", "11"],
}


def test_fast_path_accepts_only_what_the_full_check_accepts_with_the_same_values() -> None:
    """The one-regex path for common lines never disagrees with the per-column converters."""
    rng = random.Random(2021)
    row_checker = checker()
    common_form = fast_pattern(EMPLOYEES)
    fast_matches = 0
    for _ in range(20_000):
        line = ",".join(rng.choice(options) for options in PIECES.values())
        try:
            fast = list(row_checker.values(line))
        except Rejected:
            fast = None
        try:
            full = row_checker.check(line.split(","))
        except Rejected:
            full = None
        assert full == fast, line
        fast_matches += common_form.fullmatch(line) is not None
    assert fast_matches > 1000


# Unicode's own definition of each class of character the rules name (docs/dictionary.md).
def _is_control(char: str) -> bool:
    category = unicodedata.category(char)
    bidi_format = category == "Cf" and unicodedata.bidirectional(char) in BIDI_FORMATS
    return category in ("Cc", "Zl", "Zp") or bidi_format


BIDI_FORMATS = ("LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI")
EVERY_CHARACTER = st.characters(codec=None, categories=None)


def name_codes(name: str) -> list[str] | str:
    """The reasons `name` is rejected as an employee's name, or the value stored."""
    try:
        return checker().check(["1", name, "2021-01-01T00:00:00Z", "1", "10"])[1]
    except Rejected as rejected:
        return [r.code for r in rejected.reasons]


def test_the_declared_blanks_and_controls_are_exactly_unicodes_classes() -> None:
    every = [chr(point) for point in range(0x110000)]
    controls = {c for c in every if CONTROL.fullmatch(c)}

    assert {c for c in every if unicodedata.category(c) == "Zs"} == set(BLANKS)
    assert {c for c in every if _is_control(c)} == controls


@given(EVERY_CHARACTER)
def test_a_character_inside_a_name_is_kept_unless_it_is_a_control_or_a_surrogate(
    char: str,
) -> None:
    if _is_control(char):
        expected: list[str] | str = ["control_character"]
    elif unicodedata.category(char) == "Cs":
        expected = ["invalid_utf8"]
    else:
        expected = f"a{char}b".replace("\\", "\\\\")

    assert expected == name_codes(f"a{char}b")


@given(EVERY_CHARACTER, st.sampled_from(["{}ab", "ab{}", "{}ab{}"]))
def test_only_space_separators_are_trimmed_from_the_ends_of_a_name(char: str, shape: str) -> None:
    result = name_codes(shape.format(char, char))

    if unicodedata.category(char) == "Zs":
        assert "ab" == result
    elif _is_control(char):
        assert ["control_character"] == result
    else:
        assert isinstance(result, str) and char in result


@pytest.mark.parametrize("line", ["790003,\x9bcsi", "790003,a\x85b", "1,\u2028x", "1,\x1c x"])
def test_a_line_with_a_c1_control_or_a_line_separator_is_rejected(line: str) -> None:
    departments = RowChecker(table("departments"), {})
    with pytest.raises(Rejected) as rejected:
        departments.values(line)
    assert ["control_character"] == [r.code for r in rejected.value.reasons]


@given(
    st.lists(
        st.text(st.characters(codec=None, exclude_characters=',"\n\r'), max_size=6),
        min_size=5,
        max_size=5,
    )
)
def test_fast_path_agrees_with_the_full_check_on_fields_of_any_characters(
    fields: list[str],
) -> None:
    fields[2] = fields[2] or "2021-01-01T00:00:00Z"
    line = ",".join(fields)
    try:
        fast = list(checker().values(line))
    except Rejected:
        fast = None
    try:
        full = checker().check(fields)
    except Rejected:
        full = None
    assert full == fast, line


def test_a_date_without_offset_that_does_not_exist_gets_both_reasons() -> None:
    assert [("datetime", "missing_offset"), ("datetime", "impossible_datetime")] == codes(
        ["1", "A", "2021-02-30T00:00:00", "1", "10"]
    )


@pytest.mark.parametrize("moment", ["0001-01-01T00:30:00+01:00", "9999-12-31T23:30:00-01:00"])
def test_an_instant_outside_the_utc_years_of_the_dictionary_is_out_of_range(moment: str) -> None:
    assert [("datetime", "out_of_range")] == codes(["1", "A", moment, "1", "10"])


def test_the_last_second_of_the_last_year_is_a_valid_hire() -> None:
    last = "9999-12-31T23:59:59Z"
    assert last == checker().check(["1", "A", last, "1", "10"])[2]
