"""CSV lines: endings, BOM, header, quotes and broken bytes, each line numbered."""

from __future__ import annotations

import io

import pytest

from hrdata.csvfile import parse_lines
from hrdata.errors import HeaderMismatch
from hrdata.wire import Reason

HEADER = ("id", "department")


def parse(data: bytes, max_line_chars: int = 1000) -> list[tuple[int, object, str]]:
    return list(parse_lines(io.BytesIO(data), header=HEADER, max_line_chars=max_line_chars))


def fields_of(data: bytes) -> list[object]:
    return [fields for _, fields, _ in parse(data)]


def test_reads_crlf_lines_with_their_numbers() -> None:
    assert [(1, ["1", "Sales"], "1,Sales"), (2, ["2", "HR"], "2,HR")] == parse(
        b"1,Sales\r\n2,HR\r\n"
    )


def test_skips_a_header_line() -> None:
    assert [["1", "Sales"]] == fields_of(b"id,department\n1,Sales\n")


def test_header_with_blanks_and_capitals_is_still_a_header() -> None:
    assert [["1", "Sales"]] == fields_of(b" ID , Department\r\n1,Sales\r\n")


def test_first_line_with_an_integer_is_data_even_if_it_names_a_column() -> None:
    assert [["1", "department"], ["2", "Sales"]] == fields_of(b"1,department\n2,Sales\n")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"department,id\nSales,1\n", [["1", "Sales"]]),
        (b' Department , ID \r\n"Sales, EMEA",2\r\n', [["2", "Sales, EMEA"]]),
    ],
    ids=["swapped", "blanks-capitals-quotes"],
)
def test_a_header_in_another_order_maps_the_columns_by_name(
    data: bytes, expected: list[list[str]]
) -> None:
    assert expected == fields_of(data)


def test_lines_after_a_reordered_header_keep_their_numbers_and_problems() -> None:
    lines = parse(b'department,id\nSales,1\n\nHR\n"open,3\n')

    assert [(2, ["1", "Sales"]), (4, ["HR"]), (5, "unbalanced_quotes")] == [
        (n, f if isinstance(f, list) else f.code) for n, f, _ in lines
    ]


@pytest.mark.parametrize(
    ("first", "named"),
    [
        (b"id,jobs", "names unknown 'jobs'"),
        (b"department", "lacks 'id'"),
        (b"id,department,id", "repeats 'id'"),
        (b"ID,Department,extra", "names unknown 'extra'"),
    ],
)
def test_a_header_that_lacks_or_names_an_unknown_column_is_an_error_for_the_file(
    first: bytes, named: str
) -> None:
    with pytest.raises(HeaderMismatch, match=named):
        fields_of(first + b"\n1,Sales\n")


def test_a_header_mismatch_says_which_columns_it_lacks_adds_and_repeats() -> None:
    with pytest.raises(HeaderMismatch) as mismatch:
        fields_of(b"department,extra,extra\n1,Sales\n")

    facts = mismatch.value
    assert (["id", "department"], ["id"], ["extra"], ["extra"]) == (
        facts.expected,
        facts.missing,
        facts.unknown,
        facts.repeated,
    )


def test_only_the_first_line_can_be_a_header() -> None:
    assert [["1", "Sales"], ["id", "department"]] == fields_of(b"1,Sales\nid,department\n")


def test_strips_a_utf8_byte_order_mark() -> None:
    assert [["1", "Sales"]] == fields_of(b"\xef\xbb\xbfid,department\n1,Sales\n")


def test_quoted_field_may_hold_commas_and_quotes() -> None:
    assert [["1", 'Sales, "EMEA"']] == fields_of(b'1, "Sales, ""EMEA"""\n')


def test_ignores_blank_lines_but_keeps_numbering() -> None:
    assert [(1, ["1", "A"], "1,A"), (3, ["2", "B"], "2,B")] == parse(b"1,A\n\n2,B\n")


def test_last_line_without_newline_is_read() -> None:
    assert [["1", "A"], ["2", "B"]] == fields_of(b"1,A\n2,B")


def test_unbalanced_quote_rejects_only_its_own_line() -> None:
    lines = parse(b'1,"Sales\n2,HR\n')

    assert isinstance(lines[0][1], Reason) and lines[0][1].code == "unbalanced_quotes"
    assert (2, ["2", "HR"], "2,HR") == lines[1]


def test_bytes_that_are_not_utf8_reject_the_line() -> None:
    lines = parse(b"1,Sa\xffles\n2,HR\n")

    assert isinstance(lines[0][1], Reason) and lines[0][1].code == "invalid_utf8"
    assert ["2", "HR"] == lines[1][1]


def test_line_over_the_limit_is_rejected_and_reading_goes_on() -> None:
    lines = parse(b"1," + b"x" * 5000 + b"\n2,HR\n", max_line_chars=100)

    assert isinstance(lines[0][1], Reason) and lines[0][1].code == "line_too_long"
    assert (2, ["2", "HR"], "2,HR") == lines[1]


def test_reads_old_mac_cr_line_endings() -> None:
    assert [(1, ["1", "A"], "1,A"), (2, ["2", "B"], "2,B")] == parse(b"1,A\r2,B\r")


def test_line_exactly_at_the_limit_is_read() -> None:
    line = b"1," + b"x" * 98

    assert [(1, ["1", "x" * 98], line.decode())] == parse(line + b"\r\n", max_line_chars=100)


def test_line_spanning_many_read_chunks_is_rejected_once_and_numbering_holds() -> None:
    data = b"1,A\r\n2," + b"x" * 3_500_000 + b"\r\n3,C\r\n4,D"

    lines = parse(data, max_line_chars=100)

    assert [1, 2, 3, 4] == [number for number, _, _ in lines]
    assert isinstance(lines[1][1], Reason) and ["4", "D"] == lines[3][1]


def test_blank_lines_with_spaces_are_ignored() -> None:
    assert [["1", "A"]] == fields_of(b"  \r\n\t\r\n1,A\r\n \r\n")


def test_a_line_of_only_control_characters_is_not_a_blank_line() -> None:
    assert [["\x1c"], ["\x85"], ["1", "A"]] == fields_of("\x1c\n\x85\n1,A\n".encode())
