"""What derives from the data dictionary: the DDL and the documentation of every table."""

from __future__ import annotations

from psycopg import sql

from hrdata.dictionary import BLANKS, CONTROL_RANGES, TABLES, Column, Table
from hrdata.errors import Code


def _column_definition(column: Column) -> sql.Composed:
    parts: list[sql.Composable] = [
        sql.Identifier(column.name),
        sql.SQL(column.sql_type),
        sql.SQL("NOT NULL"),
    ]
    if column.primary_key:
        parts.append(sql.SQL("PRIMARY KEY"))
    check = column.type.sql_check(column)
    if check is not None:
        parts.append(check)
    if column.references:
        # DEFERRABLE lets a restore by a role that may not skip triggers check at commit.
        parts.append(
            sql.SQL("REFERENCES {} (id) DEFERRABLE").format(sql.Identifier(column.references))
        )
    return sql.SQL(" ").join(parts)


def create_table(table: Table) -> sql.Composed:
    """CREATE TABLE IF NOT EXISTS for a dictionary table, with keys and references."""
    return sql.SQL("CREATE TABLE IF NOT EXISTS {} ({})").format(
        sql.Identifier(table.name),
        sql.SQL(", ").join(_column_definition(c) for c in table.columns),
    )


def add_column(table: Table, column: Column) -> sql.Composed:
    """ALTER TABLE ... ADD COLUMN for a column the dictionary gained since the table was made."""
    return sql.SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {}").format(
        sql.Identifier(table.name), _column_definition(column)
    )


def schema_changes(present: dict[str, set[str]]) -> list[sql.SQL | sql.Composed]:
    """The DDL that brings the dictionary's tables, with tables and columns `present`, up to date.

    Nothing is issued for what exists, so a role that owns no table can still run hrdata.
    """
    changes: list[sql.SQL | sql.Composed] = []
    for t in TABLES:
        if t.name not in present:
            changes.append(create_table(t))
        else:
            changes += [add_column(t, c) for c in t.columns if c.name not in present[t.name]]
    return changes


def dictionary_markdown() -> str:
    """docs/dictionary.md, generated from the dictionary (a test keeps the file current)."""
    lines = [
        "# Data dictionary",
        "",
        "Generated from `src/hrdata/dictionary/` by `hrdata dictionary`; do not edit by hand.",
        "",
    ]
    for t in TABLES:
        lines += [
            f"## {t.name}",
            "",
            t.description,
            "",
            "| column | type | PostgreSQL | meaning | rules |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"| {c.name} | {c.type.name} | {c.sql_type} | {c.description} | {c.rules()} |"
            for c in t.columns
        ]
        lines.append("")
    return "\n".join(lines + _text_rules())


def _text_rules() -> list[str]:
    def points(chars: str) -> str:
        return ", ".join(f"U+{ord(c):04X}" for c in chars)

    controls = ", ".join(f"U+{ord(low):04X}..U+{ord(high):04X}" for low, high in CONTROL_RANGES)
    return [
        "## Text rules",
        "",
        f"- **Trimmed** removes only space separators (Unicode category Zs: {points(BLANKS)})",
        "  from both ends of every value. Nothing else is removed.",
        f"- **Control characters** ({controls}) are refused anywhere in a value, ends included",
        f"  (`{Code.CONTROL_CHARACTER}`): category Cc (C0, DEL and C1), the line and paragraph",
        "  separators (Zl, Zp), and the bidi embeddings, overrides and isolates, which change how",
        "  a name is shown. Other format characters (Cf: zero-width joiners, soft hyphen, the",
        "  LRM and RLM marks) are kept: real names in many scripts need them.",
        "- **Unique ignoring case**: two names are the same when they are equal once trimmed and",
        "  case folded (Unicode `casefold`: `LEGAL`, ` legal ` and `Legal` are one name, `Straße`",
        "  and `STRASSE` too; `Légal` is another). A department or job whose name another id",
        f"  holds is rejected (`{Code.NAME_TAKEN}`, naming that id), whether it comes in a "
        "migration, a",
        "  batch or the same file as the first; the first row to hold a name keeps it. Tables",
        "  with such a column are written by one writer at a time, so concurrent batches cannot",
        "  both take a name.",
        "",
    ]


def row_json_schema(table: Table) -> dict[str, object]:
    """The JSON Schema of one row of `table` in an API request, from the dictionary."""
    properties: dict[str, object] = {}
    for column in table.columns:
        properties[column.name] = {
            **column.type.json_schema(column),
            "description": column.description,
        }
    return {
        "title": f"{table.name} row",
        "type": "object",
        "properties": properties,
        "required": list(table.column_names),
        "additionalProperties": False,
    }


def avro_schema(table: Table) -> dict[str, object]:
    """The AVRO record schema of `table`: ids as int, names as string, the hire datetime as
    a UTC `timestamp-micros`; every field required, as in the dictionary."""
    return {
        "type": "record",
        "name": table.name,
        "namespace": "hrdata",
        "doc": table.description,
        "fields": [
            {"name": c.name, "type": c.type.avro, "doc": c.description} for c in table.columns
        ],
    }
