"""Restoring tables from a backup set: all of it, or nothing.

Every file is verified before anything changes. Then, in one transaction: the tables are
locked, emptied and bulk-loaded with COPY, and every reference into or out of them is checked
in bulk. Any problem rolls the whole restore back, leaving the tables as they were. Child
rows are never deleted silently: restoring a parent that no longer holds some referenced ids
is refused, naming them.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import IO

import psycopg
from psycopg import sql

from hrdata.backup.avro import read_rows
from hrdata.backup.ids import checked_backup_id
from hrdata.backup.sets import (
    TableDone,
    latest_backup,
    read_manifest,
    tables_named,
    verified_file,
)
from hrdata.backup.storage import storage_for
from hrdata.db import connection, init_schema
from hrdata.dictionary import TABLES, Table, dependency_rank
from hrdata.errors import RestoreWouldBreakReferences
from hrdata.settings import Settings

_SHOWN_IDS = 10


@dataclass
class RestoreResult:
    backup_id: str
    rows: dict[str, int] = field(default_factory=dict)


def restore(
    settings: Settings,
    tables: list[str] | None = None,
    backup_id: str | None = None,
    location: str | None = None,
    on_table: TableDone = lambda table, rows: None,
) -> RestoreResult:
    """Replace `tables` (every table of the set when None) with their rows in the backup."""
    storage = storage_for(settings, location)
    backup_id = checked_backup_id(backup_id) if backup_id else latest_backup(storage)
    manifest = read_manifest(storage, backup_id)
    chosen = tables_named(tables or list(manifest.tables))
    result = RestoreResult(backup_id)
    with ExitStack() as stack:
        files = {t.name: stack.enter_context(verified_file(storage, manifest, t)) for t in chosen}
        with connection(settings) as conn:
            init_schema(conn)
            conn.commit()
            with conn.transaction():
                _lock(conn, chosen)
                _defer_reference_checks(conn)
                _empty(conn, chosen)
                for table in chosen:
                    result.rows[table.name] = _load(conn, table, files[table.name])
                    on_table(table.name, result.rows[table.name])
                _check_references(conn, chosen)
    return result


def _related(chosen: list[Table]) -> list[Table]:
    """Tables not restored that reference, or are referenced by, a restored one."""
    names = {t.name for t in chosen}
    return [
        t
        for t in TABLES
        if t.name not in names
        and (names & set(t.parents) or any(t.name in c.parents for c in chosen))
    ]


def _lock(conn: psycopg.Connection, chosen: list[Table]) -> None:
    # Restored tables: nobody reads half a restore. Related ones: unchanged while checked.
    conn.execute(
        sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(
            sql.SQL(", ").join(sql.Identifier(t.name) for t in chosen)
        )
    )
    related = _related(chosen)
    if related:
        conn.execute(
            sql.SQL("LOCK TABLE {} IN SHARE MODE").format(
                sql.SQL(", ").join(sql.Identifier(t.name) for t in related)
            )
        )


def _defer_reference_checks(conn: psycopg.Connection) -> None:
    """Skip per-row reference triggers (every reference is checked in bulk before commit);
    a role that may not do so defers them to the commit instead."""
    try:
        with conn.transaction():
            conn.execute("SET LOCAL session_replication_role = replica")
    except psycopg.errors.InsufficientPrivilege:
        conn.execute("SET CONSTRAINTS ALL DEFERRED")


def _empty(conn: psycopg.Connection, chosen: list[Table]) -> None:
    names = {t.name for t in chosen}
    # TRUNCATE is fast but refuses a table referenced by one that stays; DELETE then.
    truncatable = [t for t in chosen if {o.name for o in TABLES if t.name in o.parents} <= names]
    if truncatable:
        conn.execute(
            sql.SQL("TRUNCATE {}").format(
                sql.SQL(", ").join(sql.Identifier(t.name) for t in truncatable)
            )
        )
    for table in chosen:
        if table not in truncatable:
            conn.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(table.name)))


def _load(conn: psycopg.Connection, table: Table, stream: IO[bytes]) -> int:
    # read_rows gives datetimes as the binary timestamptz itself (int8 microseconds since
    # 2000-01-01 UTC), sent as they are; the server still checks every one is in range.
    types = [
        {"integer": "int4", "string": "text", "datetime": "int8"}[c.type] for c in table.columns
    ]
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, table.column_names))
    )
    rows = 0
    with conn.cursor().copy(statement) as copy:
        copy.set_types(types)
        for row in read_rows(stream, table):
            copy.write_row(row)
            rows += 1
    return rows


def _check_references(conn: psycopg.Connection, chosen: list[Table]) -> None:
    """Refuse the restore if any reference touching a restored table points nowhere."""
    names = {t.name for t in chosen}
    for child in sorted(TABLES, key=dependency_rank):
        for column in child.columns:
            parent = column.references
            if parent is None or (child.name not in names and parent not in names):
                continue
            count, ids = conn.execute(
                sql.SQL(
                    "SELECT count(*), (array_agg(DISTINCT c.{col} ORDER BY c.{col}))[1:%s] "
                    "FROM {child} c WHERE NOT EXISTS (SELECT FROM {parent} p WHERE p.id = c.{col})"
                ).format(
                    col=sql.Identifier(column.name),
                    child=sql.Identifier(child.name),
                    parent=sql.Identifier(parent),
                ),
                (_SHOWN_IDS,),
            ).fetchone() or (0, None)
            if count:
                shown = ", ".join(map(str, ids or []))
                more = ", ..." if len(ids or []) == _SHOWN_IDS else ""
                raise RestoreWouldBreakReferences(
                    f"restore refused, nothing was changed: {count} {child.name} rows would point "
                    f"at {parent} that do not exist ({column.name} {shown}{more})"
                )
