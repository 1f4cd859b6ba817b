"""Rows checked against the dictionary: every reason a row fails, not only the first.

Each column gets a converter from the raw CSV text to its value in COPY text format. Most
lines are valid and in one common form, which a single regular expression derived from the
dictionary recognises; the other lines are split and run through the converters, and only a
failing row pays for collecting each reason separately.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from operator import call
from typing import Any

from hrdata.csvfile import LineProblem, split_fields
from hrdata.dictionary import Column, Table
from hrdata.dictionary.types import PAD, Converter, Invalid
from hrdata.errors import Code
from hrdata.ingest.idset import IdSet
from hrdata.wire import Reason

# Ids of a referenced table: a plain set when small (fastest lookups), else a bitmap.
Ids = IdSet | frozenset[int]


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


class _DecimalView:
    """Membership of decimal strings in a bitmap of ids (for parents too big for a set)."""

    def __init__(self, ids: IdSet) -> None:
        self.ids = ids

    def __contains__(self, text: object) -> bool:
        return isinstance(text, str) and int(text) in self.ids


def _as_text(ids: Ids) -> frozenset[str] | _DecimalView:
    # The common form captures ids as canonical decimals, so a set of strings answers directly.
    return frozenset(map(str, ids)) if isinstance(ids, frozenset) else _DecimalView(ids)


# The common form of a valid line. Every line it matches, the converters accept with the
# same values (tests/ingest/test_validate.py checks this on random lines); anything unusual (quotes,
# offsets, 10-digit ids, 29 February, backslashes...) simply takes the full check.
def fast_pattern(table: Table) -> re.Pattern[str]:
    """A pattern matching the common form of a valid line of `table`, one group per column."""
    return re.compile(",".join(PAD + c.type.fast_field(c) + PAD for c in table.columns))


def converter(column: Column, known_ids: Mapping[str, Ids]) -> Converter:
    """The converter for `column`; references are checked against `known_ids[parent]`."""
    return column.type.converter(
        column, known_ids[column.references] if column.references else None
    )


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
            raise Rejected([Reason(Code.WRONG_FIELD_COUNT, message)], shown)
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
