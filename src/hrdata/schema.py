"""What derives from the data dictionary: the DDL and the documentation of every table."""

from __future__ import annotations

from psycopg import sql

from hrdata import sessions
from hrdata.dictionary import BLANKS, CONTROL_RANGES, MAX_INTEGER, TABLES, Column, Table
from hrdata.metrics import counts


def _column_definition(column: Column) -> sql.Composed:
    parts: list[sql.Composable] = [
        sql.Identifier(column.name),
        sql.SQL(column.sql_type),
        sql.SQL("NOT NULL"),
    ]
    if column.primary_key:
        parts.append(sql.SQL("PRIMARY KEY"))
    if column.type == "integer":
        parts.append(sql.SQL("CHECK ({} > 0)").format(sql.Identifier(column.name)))
    if column.max_length is not None:
        parts.append(
            sql.SQL("CHECK (char_length({}) <= {})").format(
                sql.Identifier(column.name), sql.Literal(column.max_length)
            )
        )
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


# Bookkeeping tables: runs and their files, rejected rows, keys, jobs, and the hire counts the
# metrics read (made with triggers that keep them current, see metrics/counts.py).
BOOKKEEPING: dict[str, tuple[str | sql.SQL | sql.Composed, ...]] = {
    "load_runs": (
        """CREATE TABLE IF NOT EXISTS load_runs (
        run_id text PRIMARY KEY,
        started_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        status text NOT NULL,
        sources jsonb NOT NULL,
        error text
    )""",
    ),
    "load_run_files": (
        """CREATE TABLE IF NOT EXISTS load_run_files (
        run_id text NOT NULL REFERENCES load_runs (run_id),
        table_name text NOT NULL,
        source text NOT NULL,
        position integer NOT NULL,
        status text NOT NULL,
        read bigint NOT NULL,
        inserted bigint NOT NULL,
        skipped bigint NOT NULL,
        rejected bigint NOT NULL,
        skipped_by_reason jsonb NOT NULL,
        rejected_by_reason jsonb NOT NULL,
        rejects_log text,
        finished_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (run_id, table_name, source)
    )""",
    ),
    "rejected_rows": (
        """CREATE TABLE IF NOT EXISTS rejected_rows (
        id bigserial PRIMARY KEY,
        run_id text NOT NULL,
        table_name text NOT NULL,
        source text NOT NULL,
        line bigint,
        raw jsonb NOT NULL,
        reasons jsonb NOT NULL,
        rejected_at timestamptz NOT NULL DEFAULT now()
    )""",
        "CREATE INDEX IF NOT EXISTS rejected_rows_by_table ON rejected_rows (table_name, id)",
        "CREATE INDEX IF NOT EXISTS rejected_rows_by_run ON rejected_rows (run_id)",
    ),
    # Reject logs of API requests whose location could not be written: published later.
    "pending_reject_logs": (
        """CREATE TABLE IF NOT EXISTS pending_reject_logs (
        run_id text NOT NULL,
        table_name text NOT NULL,
        source text NOT NULL,
        name text NOT NULL,
        noted_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (run_id, table_name, source)
    )""",
    ),
    "api_keys": (
        """CREATE TABLE IF NOT EXISTS api_keys (
        key_id text PRIMARY KEY,
        name text NOT NULL,
        role text NOT NULL CHECK (role IN ('ingest', 'read', 'admin')),
        secret_hash text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz
    )""",
    ),
    "report_sessions": sessions.DDL,
    "idempotency_keys": (
        """CREATE TABLE IF NOT EXISTS idempotency_keys (
        owner text NOT NULL,
        key text NOT NULL,
        request_hash text NOT NULL,
        status_code integer,
        response jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (owner, key)
    )""",
    ),
    "background_jobs": (
        """CREATE TABLE IF NOT EXISTS background_jobs (
        job_id text PRIMARY KEY,
        kind text NOT NULL,
        status text NOT NULL,
        request jsonb NOT NULL,
        progress jsonb NOT NULL DEFAULT '{}',
        result jsonb,
        error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
    )""",
    ),
    "hire_counts": counts.DDL,
}


def schema_changes(present: dict[str, set[str]]) -> list[sql.SQL | sql.Composed]:
    """The DDL that brings a schema with tables and columns `present` up to date.

    Nothing is issued for what exists, so a role that owns no table can still run hrdata.
    """
    changes: list[sql.SQL | sql.Composed] = []
    for t in TABLES:
        if t.name not in present:
            changes.append(create_table(t))
        else:
            changes += [add_column(t, c) for c in t.columns if c.name not in present[t.name]]
    for name, statements in BOOKKEEPING.items():
        if name not in present:
            # The hire counts come composed (metrics/counts.py); the others are plain text.
            changes += [sql.SQL(s) if isinstance(s, str) else s for s in statements]
    return changes


def dictionary_markdown() -> str:
    """docs/dictionary.md, generated from the dictionary (a test keeps the file current)."""
    lines = [
        "# Data dictionary",
        "",
        "Generated from `src/hrdata/dictionary.py` by `hrdata dictionary`; do not edit by hand.",
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
            f"| {c.name} | {c.type} | {c.sql_type} | {c.description} | {c.rules()} |"
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
        "  (`control_character`): category Cc (C0, DEL and C1), the line and paragraph",
        "  separators (Zl, Zp), and the bidi embeddings, overrides and isolates, which change how",
        "  a name is shown. Other format characters (Cf: zero-width joiners, soft hyphen, the",
        "  LRM and RLM marks) are kept: real names in many scripts need them.",
        "- **Unique ignoring case**: two names are the same when they are equal once trimmed and",
        "  case folded (Unicode `casefold`: `LEGAL`, ` legal ` and `Legal` are one name, `Straße`",
        "  and `STRASSE` too; `Légal` is another). A department or job whose name another id",
        "  holds is rejected (`name_taken`, naming that id), whether it comes in a migration, a",
        "  batch or the same file as the first; the first row to hold a name keeps it. Tables",
        "  with such a column are written by one writer at a time, so concurrent batches cannot",
        "  both take a name.",
        "",
    ]


def row_json_schema(table: Table) -> dict[str, object]:
    """The JSON Schema of one row of `table` in an API request, from the dictionary."""
    properties: dict[str, object] = {}
    for column in table.columns:
        if column.type == "integer":
            prop: dict[str, object] = {"type": "integer", "minimum": 1, "maximum": MAX_INTEGER}
        elif column.type == "string":
            prop = {"type": "string", "minLength": 1, "maxLength": column.max_length}
        else:
            prop = {"type": "string", "format": "date-time", "example": "2021-11-07T02:48:42Z"}
        prop["description"] = column.description
        properties[column.name] = prop
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
    avro_types: dict[str, object] = {
        "integer": "int",
        "string": "string",
        "datetime": {"type": "long", "logicalType": "timestamp-micros"},
    }
    return {
        "type": "record",
        "name": table.name,
        "namespace": "hrdata",
        "doc": table.description,
        "fields": [
            {"name": c.name, "type": avro_types[c.type], "doc": c.description}
            for c in table.columns
        ],
    }
