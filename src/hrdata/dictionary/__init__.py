"""The data dictionary: every table, column, type and rule of hrdata, declared once."""

from hrdata.dictionary.tables import TABLES, Column, Table, dependency_rank, table
from hrdata.dictionary.types import DATETIME, INTEGER, STRING, TYPES, ColumnType
from hrdata.dictionary.values import (
    BLANKS,
    CONTROL_RANGES,
    HIRE_YEARS,
    MAX_INTEGER,
    MAX_NAME_LENGTH,
    control_class,
    name_key,
    trim,
)

__all__ = [
    "BLANKS",
    "CONTROL_RANGES",
    "DATETIME",
    "HIRE_YEARS",
    "INTEGER",
    "MAX_INTEGER",
    "MAX_NAME_LENGTH",
    "STRING",
    "TABLES",
    "TYPES",
    "Column",
    "ColumnType",
    "Table",
    "control_class",
    "dependency_rank",
    "name_key",
    "table",
    "trim",
    "types",
]
