"""The data dictionary: every table, column, type and rule of hrdata, declared once.

The DDL, row validation, CSV header detection and docs/dictionary.md are derived from here;
adding a column or a table is a change in this file only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

ColumnType = Literal["integer", "string", "datetime"]

# PostgreSQL `integer` is 32-bit signed; ids must also be positive.
MAX_INTEGER = 2_147_483_647
MAX_NAME_LENGTH = 255

# A hire's UTC year: what PostgreSQL, Python and the metrics all represent (no year 0, no 10000).
HIRE_YEARS = (1, 9999)

# "Trimmed" removes only space separators (Unicode category Zs) from both ends of a value.
BLANKS = (
    " \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u202f\u205f\u3000"
)
# Control characters, rejected anywhere in a name, ends included (never trimmed): category Cc
# (C0, DEL, C1), the line and paragraph separators Zl and Zp, and the bidi embeddings,
# overrides and isolates, which reorder how a name is shown ("Trojan Source"). Other format
# characters (Cf: zero-width joiners, soft hyphen, LRM/RLM marks) are part of real names.
CONTROL_RANGES: tuple[tuple[str, str], ...] = (
    ("\x00", "\x1f"),
    ("\x7f", "\x9f"),
    ("\u2028", "\u2029"),
    ("\u202a", "\u202e"),
    ("\u2066", "\u2069"),
)


def control_class() -> str:
    """CONTROL_RANGES as the inside of a regular expression's character class."""
    return "".join(f"{re.escape(low)}-{re.escape(high)}" for low, high in CONTROL_RANGES)


def trim(text: str) -> str:
    """`text` without the blanks at its ends, as every column's value is read."""
    return text.strip(BLANKS)


def name_key(text: str) -> str:
    """What two names must not share in a `unique_name` column: trimmed, case folded."""
    return trim(text).casefold()


@dataclass(frozen=True, slots=True)
class Column:
    """One column: its type, meaning, and the rules a value must meet."""

    name: str
    type: ColumnType
    description: str
    primary_key: bool = False
    references: str | None = None
    max_length: int | None = None
    # No two rows may hold the same value, trimmed and compared case-insensitively.
    unique_name: bool = False

    @property
    def sql_type(self) -> str:
        return {"integer": "integer", "string": "text", "datetime": "timestamptz"}[self.type]

    def rules(self) -> str:
        """The column's rules in words, for the documentation."""
        rules = ["required"]
        if self.type == "integer":
            rules.append(f"integer in 1..{MAX_INTEGER} (ASCII digits)")
        elif self.type == "string":
            rules.append(f"non-blank after trimming, at most {self.max_length} characters")
            rules.append("no control characters")
        else:
            rules.append("ISO 8601 date and time with an offset (`Z` or `+hh:mm`), a real instant")
            rules.append(f"UTC year {HIRE_YEARS[0]}..{HIRE_YEARS[1]}")
        if self.primary_key:
            rules.append("unique")
        if self.unique_name:
            rules.append("unique ignoring case: a name another id holds is `name_taken`")
        if self.references:
            rules.append(f"must exist in `{self.references}.id`")
        return "; ".join(rules)


@dataclass(frozen=True, slots=True)
class Table:
    """One table: its name, meaning and columns; the first column is the primary key."""

    name: str
    description: str
    columns: tuple[Column, ...]

    @property
    def key(self) -> Column:
        return self.columns[0]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    @property
    def unique_name_column(self) -> Column | None:
        """The column whose values no two rows may share (ignoring case), if any."""
        return next((c for c in self.columns if c.unique_name), None)

    @property
    def parents(self) -> tuple[str, ...]:
        return tuple(c.references for c in self.columns if c.references)


def _id(description: str) -> Column:
    return Column("id", "integer", description, primary_key=True)


def _name(name: str, description: str, *, unique: bool = False) -> Column:
    return Column(name, "string", description, max_length=MAX_NAME_LENGTH, unique_name=unique)


TABLES: tuple[Table, ...] = (
    Table(
        "departments",
        "Departments of the company.",
        (_id("id of the department"), _name("department", "name of the department", unique=True)),
    ),
    Table(
        "jobs",
        "Jobs an employee can be hired for.",
        (_id("id of the job"), _name("job", "name of the job", unique=True)),
    ),
    Table(
        "hired_employees",
        "Employees hired, with when and for which department and job.",
        (
            _id("id of the employee"),
            _name("name", "name and surname"),
            Column("datetime", "datetime", "hire date and time, stored in UTC"),
            Column(
                "department_id",
                "integer",
                "department the employee was hired for",
                references="departments",
            ),
            Column("job_id", "integer", "job the employee was hired for", references="jobs"),
        ),
    ),
)


def table(name: str) -> Table:
    """The table called `name`; raises UnknownTable."""
    from hrdata.errors import UnknownTable

    for candidate in TABLES:
        if candidate.name == name:
            return candidate
    raise UnknownTable(name)


def dependency_rank(t: Table) -> int:
    """Position of `t` in load order: every table comes after the tables it references."""
    return TABLES.index(t)
