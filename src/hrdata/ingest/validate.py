"""Rows checked against the dictionary: every reason a row fails, not only the first.

Each column gets a converter from the raw CSV text to its value in COPY text format. Most
lines are valid and in one common form, which a single regular expression derived from the
dictionary recognises; the other lines are split and run through the converters, and only a
failing row pays for collecting each reason separately.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import call
from typing import Any

from hrdata.dictionary import BLANKS, HIRE_YEARS, MAX_INTEGER, Column, Table, control_class, trim
from hrdata.ingest.csvfile import LineProblem, split_fields
from hrdata.ingest.idset import IdSet
from hrdata.wire import Reason

# Ids of a referenced table: a plain set when small (fastest lookups), else a bitmap.
Ids = IdSet | frozenset[int]


class Invalid(Exception):
    """Raised by a converter; carries every reason its value fails."""

    def __init__(self, *reasons: Reason) -> None:
        self.reasons = reasons


class Rejected(Exception):
    """Raised for a row that breaks the rules; carries every reason and the raw values."""

    def __init__(self, reasons: list[Reason], raw: Any) -> None:
        self.reasons = reasons
        self.raw = raw


@dataclass(frozen=True, slots=True)
class Record:
    """A row given as values (an API request): fields in column order, problems found while
    reading them (a wrong JSON type, an unknown key), and the row as received."""

    fields: list[str]
    problems: tuple[Reason, ...]
    raw: Any


# What a source yields for one row: a CSV line, a line that could not be read, or a record.
Item = str | LineProblem | Record


def raw_of(item: Item) -> Any:
    """The row as received, for the reject log."""
    if isinstance(item, str):
        fields = split_fields(item)
        return item if isinstance(fields, Reason) else fields
    return item.text if isinstance(item, LineProblem) else item.raw


Converter = Callable[[str], str]

_CONTROLS = control_class()
_BLANKS = re.escape(BLANKS)
_CONTROL = re.compile(f"[{_CONTROLS}]")
_SURROGATE = re.compile("[\ud800-\udfff]")  # only a JSON value can hold one: "\ud800"
_DATE_TIME = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?"
_WITH_OFFSET = re.compile(_DATE_TIME + r"(Z|[+-][0-9]{2}:[0-9]{2})")
_WITHOUT_OFFSET = re.compile(_DATE_TIME)


def _integer(column: Column, known: Ids | None) -> Converter:
    name = column.name

    def convert(raw: str) -> str:
        text = trim(raw)
        if not text:
            raise Invalid(Reason("missing", f"{name} is empty", name))
        negative = text[0] == "-"
        digits = text[1:] if negative else text
        if not (digits.isdigit() and digits.isascii()):
            raise Invalid(Reason("not_an_integer", f"{name} {text!r} is not an integer", name))
        digits = digits if len(digits) <= 10 else digits.lstrip("0")
        # Longer than 10 digits is out of range anyway (and int() refuses huge strings).
        value = int(digits or "0") if len(digits) <= 10 else 0
        if negative or not 0 < value <= MAX_INTEGER:
            shown = text if len(text) <= 24 else f"{text[:20]}… ({len(digits)} digits)"
            message = f"{name} {shown} is out of range: ids are integers from 1 to {MAX_INTEGER}"
            raise Invalid(Reason("out_of_range", message, name))
        if known is not None and value not in known:
            message = f"{name} {value} does not exist in {column.references}"
            raise Invalid(Reason("unknown_reference", message, name))
        return text if text[0] != "0" else str(value)

    return convert


def _string(column: Column) -> Converter:
    name, limit = column.name, column.max_length or 0

    def convert(raw: str) -> str:
        text = trim(raw)
        if not text:
            raise Invalid(Reason("missing", f"{name} is empty", name))
        if len(text) > limit:
            message = f"{name} has {len(text)} characters, more than {limit}"
            raise Invalid(Reason("too_long", message, name))
        if _CONTROL.search(text):
            raise Invalid(Reason("control_character", f"{name} contains a control character", name))
        if _SURROGATE.search(text):
            message = f"{name} contains a lone surrogate, which is not UTF-8"
            raise Invalid(Reason("invalid_utf8", message, name))
        # Backslash is COPY's escape character; tabs and newlines cannot get here.
        return text.replace("\\", "\\\\") if "\\" in text else text

    return convert


def _datetime(column: Column) -> Converter:
    name = column.name
    first_year, last_year = HIRE_YEARS

    def convert(raw: str) -> str:
        text = trim(raw)
        if not text:
            raise Invalid(Reason("missing", f"{name} is empty", name))
        if _WITH_OFFSET.fullmatch(text) is None:
            if not _WITHOUT_OFFSET.fullmatch(text):
                example = "2021-11-07T02:48:42Z"
                message = f"{name} {text!r} is not an ISO 8601 date and time like {example}"
                raise Invalid(Reason("invalid_datetime", message, name))
            message = f"{name} {text!r} has no offset (Z or +hh:mm); it is not guessed"
            missing = Reason("missing_offset", message, name)
            impossible = _impossible(text)
            raise Invalid(missing, impossible) if impossible else Invalid(missing)
        impossible = _impossible(text)
        if impossible:
            raise Invalid(impossible)
        try:
            utc = datetime.fromisoformat(text).astimezone(UTC)
        except OverflowError:
            utc = None  # the instant falls in year 0 or 10000
        if utc is None or not first_year <= utc.year <= last_year:
            message = f"{name} {text!r} is outside the UTC years {first_year}..{last_year}"
            raise Invalid(Reason("out_of_range", message, name))
        # PostgreSQL reads the Z form exactly as written.
        return text if text[-1] == "Z" else utc.isoformat()

    def _impossible(text: str) -> Reason | None:
        try:
            datetime.fromisoformat(text)
        except ValueError as exc:
            message = f"{name} {text!r} is not a real date and time: {exc}"
            return Reason("impossible_datetime", message, name)
        return None

    return convert


# The common form of a valid line. Every line it matches, the converters accept with the
# same values (tests/test_validate.py checks this on random lines); anything unusual (quotes,
# offsets, 10-digit ids, 29 February, backslashes...) simply takes the full check.
_PAD = f"[{_BLANKS}]*"
_FAST_ID = r"0*([1-9][0-9]{0,8})"  # at most 9 digits: always within integer range
_EDGE = f'[^{_BLANKS},"\\\\{_CONTROLS}\ud800-\udfff]'  # what a trimmed name starts and ends with
_INNER = f'[^,"\\\\{_CONTROLS}\ud800-\udfff]'
_MONTH_DAY = (
    r"(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
    r"|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
    r"|02-(?:0[1-9]|1[0-9]|2[0-8]))"
)
_FAST_INSTANT = (
    rf"((?!0000)[0-9]{{4}}-{_MONTH_DAY}"
    r"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,6})?Z)"
)


def _fast_field(column: Column) -> str:
    if column.type == "integer":
        return _FAST_ID
    if column.type == "string":
        assert column.max_length is not None and column.max_length >= 2
        return rf"({_EDGE}(?:{_INNER}{{0,{column.max_length - 2}}}{_EDGE})?)"
    return _FAST_INSTANT


# A stored value of a string column: already trimmed, no control character, no surrogate.
_STORED_EDGE = f"[^{_BLANKS}{_CONTROLS}\ud800-\udfff]"
_STORED_INNER = f"[^{_CONTROLS}\ud800-\udfff]"


def stored_text_pattern(column: Column) -> re.Pattern[str]:
    """Matches exactly the values a string column may hold once stored (a restore checks this)."""
    assert column.max_length is not None and column.max_length >= 2
    inner = f"{_STORED_INNER}{{0,{column.max_length - 2}}}"
    return re.compile(f"{_STORED_EDGE}(?:{inner}{_STORED_EDGE})?")


def stored_text_reasons(column: Column, value: str) -> list[Reason]:
    """Why `value` cannot be stored in the string column: the converter's reasons, and blanks
    at its ends (which a migration would have trimmed)."""
    reasons = []
    if trim(value) != value and trim(value):
        message = f"{column.name} has blanks at its ends, which every way in trims"
        reasons.append(Reason("untrimmed", message, column.name))
    try:
        _string(column)(value)
    except Invalid as invalid:
        reasons += invalid.reasons
    return reasons


class _DecimalView:
    """Membership of decimal strings in a bitmap of ids (for parents too big for a set)."""

    def __init__(self, ids: IdSet) -> None:
        self.ids = ids

    def __contains__(self, text: object) -> bool:
        return isinstance(text, str) and int(text) in self.ids


def _as_text(ids: Ids) -> frozenset[str] | _DecimalView:
    # The common form captures ids as canonical decimals, so a set of strings answers directly.
    return frozenset(map(str, ids)) if isinstance(ids, frozenset) else _DecimalView(ids)


def fast_pattern(table: Table) -> re.Pattern[str]:
    """A pattern matching the common form of a valid line of `table`, one group per column."""
    return re.compile(",".join(_PAD + _fast_field(c) + _PAD for c in table.columns))


def converter(column: Column, known_ids: Mapping[str, Ids]) -> Converter:
    """The converter for `column`; references are checked against `known_ids[parent]`."""
    if column.type == "integer":
        return _integer(column, known_ids[column.references] if column.references else None)
    if column.type == "string":
        return _string(column)
    return _datetime(column)


class RowChecker:
    """Checks raw rows of one table and turns valid ones into COPY values."""

    def __init__(self, table: Table, known_ids: Mapping[str, Ids]) -> None:
        self.table = table
        self.width = len(table.columns)
        self._converters = [converter(c, known_ids) for c in table.columns]
        self._fast = fast_pattern(table).fullmatch
        self._references = [
            (position, _as_text(known_ids[c.references]))
            for position, c in enumerate(table.columns)
            if c.references
        ]

    def values(self, line: Item) -> Sequence[str]:
        """COPY values of one row; raises Rejected with every reason it is not valid."""
        if isinstance(line, str):
            # _common_form, inlined: this runs for every line of every file.
            match = self._fast(line)
            if match is not None:
                values = match.groups()
                for position, known in self._references:
                    if values[position] not in known:
                        break
                else:
                    return values
            fields = split_fields(line)
            if isinstance(fields, Reason):
                raise Rejected([fields], line)
            return self.check(fields)
        if isinstance(line, Record):
            # A record's fields joined by commas are a line in the common form exactly when
            # none of them holds a comma or a quote; otherwise the full check decides.
            common = None if line.problems else self._common_form(",".join(line.fields))
            return common or self.check(line.fields, line.problems, line.raw)
        raise Rejected([line.reason], line.text)

    def _common_form(self, line: str) -> Sequence[str] | None:
        """The values of a line in the common form whose references exist, else None."""
        match = self._fast(line)
        if match is None:
            return None
        values = match.groups()
        for position, known in self._references:
            if values[position] not in known:
                return None
        return values

    def check(
        self, fields: list[str], problems: tuple[Reason, ...] = (), raw: Any = None
    ) -> list[str]:
        """COPY values for a valid row; raises Rejected with every reason it is not valid.

        `problems` found earlier replace the checks of their columns.
        """
        shown = fields if raw is None else raw
        if len(fields) != self.width:
            message = f"expected {self.width} fields, found {len(fields)}"
            raise Rejected([Reason("wrong_field_count", message)], shown)
        if not problems:
            try:
                return list(map(call, self._converters, fields))
            except Invalid:
                pass
        skip = {problem.column for problem in problems}
        reasons = list(problems)
        for column, convert, value in zip(
            self.table.columns, self._converters, fields, strict=True
        ):
            if column.name in skip:
                continue
            try:
                convert(value)
            except Invalid as problem:
                reasons += problem.reasons
        raise Rejected(reasons, shown)
