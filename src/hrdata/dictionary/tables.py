"""The tables of the data dictionary: every table and column of hrdata, declared once.

The DDL, row validation, CSV header detection and docs/dictionary.md are derived from here;
adding a column or a table is a change in this file only.
"""

from __future__ import annotations

from dataclasses import dataclass

from hrdata.dictionary.types import DATETIME, INTEGER, STRING, ColumnType
from hrdata.dictionary.values import MAX_NAME_LENGTH
from hrdata.errors import Code, UnknownTable


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
        return self.type.postgres

    def rules(self) -> str:
        """The column's rules in words, for the documentation."""
        rules = ["required", *self.type.rules(self)]
        if self.primary_key:
            rules.append("unique")
        if self.unique_name:
            rules.append(f"unique ignoring case: a name another id holds is `{Code.NAME_TAKEN}`")
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
    return Column("id", INTEGER, description, primary_key=True)


def _name(name: str, description: str, *, unique: bool = False) -> Column:
    return Column(name, STRING, description, max_length=MAX_NAME_LENGTH, unique_name=unique)


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
            Column("datetime", DATETIME, "hire date and time, stored in UTC"),
            Column(
                "department_id",
                INTEGER,
                "department the employee was hired for",
                references="departments",
            ),
            Column("job_id", INTEGER, "job the employee was hired for", references="jobs"),
        ),
    ),
)


def table(name: str) -> Table:
    """The table called `name`; raises UnknownTable."""
    for candidate in TABLES:
        if candidate.name == name:
            return candidate
    raise UnknownTable(name, [t.name for t in TABLES])


def dependency_rank(t: Table) -> int:
    """Position of `t` in load order: every table comes after the tables it references."""
    return TABLES.index(t)
