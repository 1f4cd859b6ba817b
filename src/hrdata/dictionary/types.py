"""The column types, each one object that knows a value of its kind in every form hrdata
handles: PostgreSQL, AVRO, JSON Schema, COPY, and the checks of a CSV field, a JSON value and
a restored value. Nothing else branches on a type: adding one is a class here.

Checks take the column (its name, length, reference) and raise or return `Reason`s; the
converters turn a CSV field into COPY text and run for every field of every file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from typing import TYPE_CHECKING, Any, ClassVar

from psycopg import sql

from hrdata.dictionary.values import BLANKS, HIRE_YEARS, MAX_INTEGER, control_class, trim
from hrdata.errors import Code
from hrdata.wire import Reason

if TYPE_CHECKING:
    from hrdata.dictionary.tables import Column

# A CSV field (trimmed or not) to its value as COPY text; raises Invalid.
Converter = Callable[[str], str]
# A check of one column over a block of restored rows: True when every value is allowed.
BlockCheck = Callable[[list[tuple[Any, ...]]], bool]


class Invalid(Exception):
    """Raised by a converter; carries every reason its value fails."""

    def __init__(self, *reasons: Reason) -> None:
        self.reasons = reasons


_CONTROLS = control_class()
_BLANKS = re.escape(BLANKS)
CONTROL = re.compile(f"[{_CONTROLS}]")
_SURROGATE = re.compile("[\ud800-\udfff]")  # only a JSON value can hold one: "\ud800"
# Padding around a field of a line in the common form (see ColumnType.fast_field).
PAD = f"[{_BLANKS}]*"


class ColumnType:
    """A column type; the subclasses below are its three instances' behaviour."""

    name: str  # as docs/dictionary.md and GET /v1/dictionary name it
    postgres: str  # the PostgreSQL type
    avro: ClassVar[object]  # the AVRO field type
    binary: str  # the type a restore sends its values in, by COPY BINARY
    json_kind: str  # what a JSON value of the type is, in a message: "an integer"

    def rules(self, column: Column) -> list[str]:
        """The type's rules of `column` in words, for the documentation."""
        raise NotImplementedError

    def json_schema(self, column: Column) -> dict[str, object]:
        """The JSON Schema of a value of `column` in an API request."""
        raise NotImplementedError

    def sql_check(self, column: Column) -> sql.Composable | None:
        """The CHECK constraint the type puts on `column`, if any."""
        return None

    def avro_value(self, column: Column) -> sql.Composable:
        """The expression a backup selects `column` with, as AVRO stores its values."""
        return sql.Identifier(column.name)

    def avro_offset(self) -> int:
        """What to subtract from a value as AVRO stores it to send it by COPY BINARY."""
        return 0

    def converter(self, column: Column, known: Container[int] | None) -> Converter:
        """CSV text to COPY text; a reference is checked against `known` ids of its table."""
        raise NotImplementedError

    def fast_field(self, column: Column) -> str:
        """A regular expression for the common form of a valid field, one capture group."""
        raise NotImplementedError

    def from_json(self, column: Column, value: Any) -> tuple[str, Reason | None]:
        """A JSON value other than a string or null as CSV text, or why it cannot be one."""
        given = _JSON_KINDS.get(type(value), "an object or array")
        message = f"{column.name} must be {self.json_kind}, not {given}"
        return "", Reason(Code.WRONG_TYPE, message, column.name)

    def block_check(self, position: int, column: Column) -> BlockCheck:
        """A check of column `position` over a block of restored rows, run in C."""
        raise NotImplementedError

    def stored_reasons(self, column: Column, value: Any) -> list[Reason]:
        """Why a restored value cannot be stored in `column` (empty when it can)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return self.name


class LongNumber(str):
    """A JSON integer too long to be any id, kept as its digits."""


_JSON_KINDS = {
    bool: "a boolean",
    int: "an integer",
    LongNumber: "an integer",
    float: "a number",
    str: "a string",
}


class IntegerType(ColumnType):
    name, postgres, avro, binary, json_kind = "integer", "integer", "int", "int4", "an integer"

    def rules(self, column: Column) -> list[str]:
        return [f"integer in 1..{MAX_INTEGER} (ASCII digits)"]

    def json_schema(self, column: Column) -> dict[str, object]:
        # A string of digits is read as a CSV field is: "007" is 7, blanks around it trimmed.
        digits = {"type": "string", "pattern": f"^[{BLANKS}]*[0-9]+[{BLANKS}]*$"}
        return {"anyOf": [{"type": "integer", "minimum": 1, "maximum": MAX_INTEGER}, digits]}

    def sql_check(self, column: Column) -> sql.Composable:
        return sql.SQL("CHECK ({} > 0)").format(sql.Identifier(column.name))

    def converter(self, column: Column, known: Container[int] | None) -> Converter:
        name = column.name

        def convert(raw: str) -> str:
            text = trim(raw)
            if not text:
                raise Invalid(Reason(Code.MISSING, f"{name} is empty", name))
            negative = text[0] == "-"
            digits = text[1:] if negative else text
            if not (digits.isdigit() and digits.isascii()):
                raise Invalid(
                    Reason(Code.NOT_AN_INTEGER, f"{name} {text!r} is not an integer", name)
                )
            digits = digits if len(digits) <= 10 else digits.lstrip("0")
            # Longer than 10 digits is out of range anyway (and int() refuses huge strings).
            value = int(digits or "0") if len(digits) <= 10 else 0
            if negative or not 0 < value <= MAX_INTEGER:
                shown = text if len(text) <= 24 else f"{text[:20]}… ({len(digits)} digits)"
                message = (
                    f"{name} {shown} is out of range: ids are integers from 1 to {MAX_INTEGER}"
                )
                raise Invalid(Reason(Code.OUT_OF_RANGE, message, name))
            if known is not None and value not in known:
                message = f"{name} {value} does not exist in {column.references}"
                raise Invalid(Reason(Code.UNKNOWN_REFERENCE, message, name))
            return text if text[0] != "0" else str(value)

        return convert

    def fast_field(self, column: Column) -> str:
        return r"0*([1-9][0-9]{0,8})"  # at most 9 digits: always within integer range

    def from_json(self, column: Column, value: Any) -> tuple[str, Reason | None]:
        if value.__class__ is int:
            return str(value), None
        if isinstance(value, LongNumber):
            message = (
                f"{column.name} has {len(value)} digits: ids are integers from 1 to {MAX_INTEGER}"
            )
            return "", Reason(Code.OUT_OF_RANGE, message, column.name)
        return super().from_json(column, value)

    def block_check(self, position: int, column: Column) -> BlockCheck:
        values = itemgetter(position)
        return lambda rows: min(map(values, rows)) >= 1 and max(map(values, rows)) <= MAX_INTEGER

    def stored_reasons(self, column: Column, value: Any) -> list[Reason]:
        if 1 <= value <= MAX_INTEGER:
            return []
        message = f"{column.name} {value} is outside 1..{MAX_INTEGER}"
        return [Reason(Code.OUT_OF_RANGE, message, column.name)]


_EDGE = f'[^{_BLANKS},"\\\\{_CONTROLS}\ud800-\udfff]'  # what a trimmed name starts and ends with
_INNER = f'[^,"\\\\{_CONTROLS}\ud800-\udfff]'
# A stored value of a string column: already trimmed, no control character, no surrogate.
_STORED_EDGE = f"[^{_BLANKS}{_CONTROLS}\ud800-\udfff]"
_STORED_INNER = f"[^{_CONTROLS}\ud800-\udfff]"


class StringType(ColumnType):
    name, postgres, avro, binary, json_kind = "string", "text", "string", "text", "a string"

    def rules(self, column: Column) -> list[str]:
        return [
            f"non-blank after trimming, at most {column.max_length} characters",
            "no control characters",
        ]

    def json_schema(self, column: Column) -> dict[str, object]:
        return {"type": "string", "minLength": 1, "maxLength": column.max_length}

    def sql_check(self, column: Column) -> sql.Composable:
        return sql.SQL("CHECK (char_length({}) <= {})").format(
            sql.Identifier(column.name), sql.Literal(column.max_length)
        )

    def converter(self, column: Column, known: Container[int] | None) -> Converter:
        name, limit = column.name, column.max_length or 0

        def convert(raw: str) -> str:
            text = trim(raw)
            if not text:
                raise Invalid(Reason(Code.MISSING, f"{name} is empty", name))
            if len(text) > limit:
                message = f"{name} has {len(text)} characters, more than {limit}"
                raise Invalid(Reason(Code.TOO_LONG, message, name))
            if CONTROL.search(text):
                message = f"{name} contains a control character"
                raise Invalid(Reason(Code.CONTROL_CHARACTER, message, name))
            if _SURROGATE.search(text):
                message = f"{name} contains a lone surrogate, which is not UTF-8"
                raise Invalid(Reason(Code.INVALID_UTF8, message, name))
            # Backslash is COPY's escape character; tabs and newlines cannot get here.
            return text.replace("\\", "\\\\") if "\\" in text else text

        return convert

    def fast_field(self, column: Column) -> str:
        assert column.max_length is not None and column.max_length >= 2
        return rf"({_EDGE}(?:{_INNER}{{0,{column.max_length - 2}}}{_EDGE})?)"

    def stored_pattern(self, column: Column) -> re.Pattern[str]:
        """Matches exactly the values the column may hold once stored."""
        assert column.max_length is not None and column.max_length >= 2
        inner = f"{_STORED_INNER}{{0,{column.max_length - 2}}}"
        return re.compile(f"{_STORED_EDGE}(?:{inner}{_STORED_EDGE})?")

    def block_check(self, position: int, column: Column) -> BlockCheck:
        values, stored = itemgetter(position), self.stored_pattern(column).fullmatch
        return lambda rows: all(map(stored, map(values, rows)))

    def stored_reasons(self, column: Column, value: Any) -> list[Reason]:
        """The converter's reasons, and blanks at its ends (which a migration would trim)."""
        reasons = []
        if trim(value) != value and trim(value):
            message = f"{column.name} has blanks at its ends, which every way in trims"
            reasons.append(Reason(Code.UNTRIMMED, message, column.name))
        try:
            self.converter(column, None)(value)
        except Invalid as invalid:
            reasons += invalid.reasons
        return reasons


_DATE_TIME = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?"
_WITH_OFFSET = re.compile(_DATE_TIME + r"(Z|[+-][0-9]{2}:[0-9]{2})")
_WITHOUT_OFFSET = re.compile(_DATE_TIME)
_MONTH_DAY = (
    r"(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
    r"|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
    r"|02-(?:0[1-9]|1[0-9]|2[0-8]))"
)
_FAST_INSTANT = (
    rf"((?!0000)[0-9]{{4}}-{_MONTH_DAY}"
    r"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,6})?Z)"
)
# PostgreSQL's binary timestamptz: integer microseconds since 2000-01-01 UTC; AVRO's since 1970.
POSTGRES_EPOCH_MICROS = 946_684_800_000_000
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_FIRST_MICROS = (datetime(HIRE_YEARS[0], 1, 1, tzinfo=UTC) - _EPOCH) // timedelta(microseconds=1)
_LAST_MICROS = (
    datetime(HIRE_YEARS[1], 12, 31, 23, 59, 59, 999999, tzinfo=UTC) - _EPOCH
) // timedelta(microseconds=1)


class DateTimeType(ColumnType):
    name, postgres, binary, json_kind = "datetime", "timestamptz", "int8", "a string"
    avro: ClassVar[object] = {"type": "long", "logicalType": "timestamp-micros"}

    def rules(self, column: Column) -> list[str]:
        first, last = HIRE_YEARS
        return [
            "ISO 8601 date and time with an offset (`Z` or `+hh:mm`), a real instant",
            f"UTC year {first}..{last}",
        ]

    def json_schema(self, column: Column) -> dict[str, object]:
        return {"type": "string", "format": "date-time", "example": "2021-11-07T02:48:42Z"}

    def avro_value(self, column: Column) -> sql.Composable:
        # timestamp-micros: exact integer microseconds since the epoch, computed by the server
        return sql.SQL("(extract(epoch FROM {}) * 1000000)::bigint").format(
            sql.Identifier(column.name)
        )

    def avro_offset(self) -> int:
        return POSTGRES_EPOCH_MICROS

    def converter(self, column: Column, known: Container[int] | None) -> Converter:
        name = column.name
        first_year, last_year = HIRE_YEARS

        def convert(raw: str) -> str:
            text = trim(raw)
            if not text:
                raise Invalid(Reason(Code.MISSING, f"{name} is empty", name))
            if _WITH_OFFSET.fullmatch(text) is None:
                if not _WITHOUT_OFFSET.fullmatch(text):
                    example = "2021-11-07T02:48:42Z"
                    message = f"{name} {text!r} is not an ISO 8601 date and time like {example}"
                    raise Invalid(Reason(Code.INVALID_DATETIME, message, name))
                message = f"{name} {text!r} has no offset (Z or +hh:mm); it is not guessed"
                missing = Reason(Code.MISSING_OFFSET, message, name)
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
                raise Invalid(Reason(Code.OUT_OF_RANGE, message, name))
            # PostgreSQL reads the Z form exactly as written.
            return text if text[-1] == "Z" else utc.isoformat()

        def _impossible(text: str) -> Reason | None:
            try:
                datetime.fromisoformat(text)
            except ValueError as exc:
                message = f"{name} {text!r} is not a real date and time: {exc}"
                return Reason(Code.IMPOSSIBLE_DATETIME, message, name)
            return None

        return convert

    def fast_field(self, column: Column) -> str:
        return _FAST_INSTANT

    def block_check(self, position: int, column: Column) -> BlockCheck:
        values = itemgetter(position)
        return lambda rows: (
            min(map(values, rows)) >= _FIRST_MICROS and max(map(values, rows)) <= _LAST_MICROS
        )

    def stored_reasons(self, column: Column, value: Any) -> list[Reason]:
        if _FIRST_MICROS <= value <= _LAST_MICROS:
            return []
        moment = f"{value + POSTGRES_EPOCH_MICROS} microseconds after 1970-01-01 UTC"
        first, last = HIRE_YEARS
        message = f"{column.name} {moment} is outside the UTC years {first}..{last}"
        return [Reason(Code.OUT_OF_RANGE, message, column.name)]


INTEGER = IntegerType()
STRING = StringType()
DATETIME = DateTimeType()
TYPES: tuple[ColumnType, ...] = (INTEGER, STRING, DATETIME)
