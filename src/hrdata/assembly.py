"""The composition root of the schema: the dictionary's tables, then the tables each feature
owns, in an order in which every reference finds its table. Entry points call `init_schema`."""

from __future__ import annotations

from collections.abc import Mapping

import psycopg
from psycopg import sql

from hrdata import auth, jobs, sessions
from hrdata.api import idempotency
from hrdata.ingest import rejects, runs
from hrdata.metrics import counts
from hrdata.schema import schema_changes

# Each feature's tables (name -> the statements that make it), made when the name is missing.
FEATURE_TABLES: tuple[Mapping[str, tuple[str | sql.SQL | sql.Composed, ...]], ...] = (
    runs.DDL,
    rejects.DDL,
    auth.DDL,
    sessions.DDL,
    idempotency.DDL,
    jobs.DDL,
    counts.DDL,
)

# Held while the schema changes, so any number of processes may start at once. Any constant
# works: it only has to differ from other advisory locks taken by hrdata.
SCHEMA_LOCK_KEY = 0x68726461


def feature_table_names() -> list[str]:
    """Every table a feature owns, beside the dictionary's."""
    return [name for tables in FEATURE_TABLES for name in tables]


def init_schema(conn: psycopg.Connection) -> None:
    """Create or upgrade every table hrdata needs; safe to run any number of times at once.

    Nothing is issued for what exists, so a role that owns no table can still run hrdata.
    """
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK_KEY,))
        present: dict[str, set[str]] = {}
        for table_name, column_name in conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema()"
        ):
            present.setdefault(table_name, set()).add(column_name)
        for statement in schema_changes(present):
            conn.execute(statement)
        for tables in FEATURE_TABLES:
            for name, statements in tables.items():
                if name not in present:
                    for ddl in statements:
                        # Plain text, or composed where a statement names identifiers.
                        conn.execute(sql.SQL(ddl) if isinstance(ddl, str) else ddl)
