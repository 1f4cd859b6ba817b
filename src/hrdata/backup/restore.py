"""Restoring tables from a backup set: all of it, or nothing.

Every file is verified before anything changes. Then, in one transaction: the tables are
locked, emptied and bulk-loaded with COPY, every row checked by the dictionary's rules on the
way (a backup set can be internally consistent and still hold what no migration would store),
and every reference into or out of them is checked in bulk. Any problem rolls the whole
restore back, leaving the tables as they were. Child rows are never deleted silently:
restoring a parent that no longer holds some referenced ids is refused, naming them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import IO, Any

import psycopg
from psycopg import sql

from hrdata.backup.avro import read_blocks
from hrdata.backup.ids import checked_backup_id
from hrdata.backup.manifest import Manifest
from hrdata.backup.sets import (
    TableDone,
    latest_backup,
    read_manifest,
    tables_named,
    verified_file,
)
from hrdata.db import Prepare, connection
from hrdata.dictionary import TABLES, Table, dependency_rank
from hrdata.errors import BackupCorrupt, BackupRowsInvalid, RestoreWouldBreakReferences
from hrdata.settings import Settings
from hrdata.storage import storage_for
from hrdata.wire import Reason

_SHOWN_IDS = 10
_SHOWN_ROWS = 5
Row = tuple[Any, ...]


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
    before_change: Callable[[Manifest, list[str]], None] = lambda manifest, tables: None,
    prepare: Prepare | None = None,
) -> RestoreResult:
    """Replace `tables` (every table of the set when None) with their rows in the backup.

    `before_change(manifest, tables)` runs once both are known and nothing is read or changed
    yet (a confirmation); whatever it raises stops the restore there. `prepare` runs on the
    connection once every file is verified (the CLI makes the schema with it).
    """
    storage = storage_for(settings, location)
    backup_id = checked_backup_id(backup_id) if backup_id else latest_backup(storage)
    manifest = read_manifest(storage, backup_id)
    chosen = tables_named(tables or list(manifest.tables))
    before_change(manifest, [table.name for table in chosen])
    result = RestoreResult(backup_id)
    with ExitStack() as stack:
        files = {t.name: stack.enter_context(verified_file(storage, manifest, t)) for t in chosen}
        with connection(settings) as conn:
            if prepare is not None:
                prepare(conn)
                conn.commit()
            with conn.transaction():
                _lock(conn, chosen)
                _defer_reference_checks(conn)
                _empty(conn, chosen)
                for table in chosen:
                    result.rows[table.name] = _load(conn, manifest, table, files[table.name])
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


def _load(conn: psycopg.Connection, manifest: Manifest, table: Table, stream: IO[bytes]) -> int:
    """COPY the file's rows into `table`; raises BackupRowsInvalid before any forbidden row."""
    file = manifest.tables[table.name].file
    where = f"restore refused, nothing was changed: {file} of backup {manifest.backup_id}"

    def corrupt(problem: str) -> BackupCorrupt:
        return BackupCorrupt(
            f"{where}: {problem}", backup_id=manifest.backup_id, table=table.name, file=file
        )

    # The blocks give datetimes as the binary timestamptz itself (int8 microseconds since
    # 2000-01-01 UTC), sent as they are.
    types = [c.type.binary for c in table.columns]
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, table.column_names))
    )
    rules = _BlockRules(table)
    rows = 0
    try:
        with conn.cursor().copy(statement) as copy:
            copy.set_types(types)
            for block in _readable_blocks(stream, table, corrupt):
                invalid = rules.invalid(block, first_number=rows + 1)
                if invalid:
                    raise BackupRowsInvalid(manifest.backup_id, table.name, file, invalid)
                for row in block:
                    copy.write_row(row)
                rows += len(block)
    except (psycopg.errors.IntegrityError, psycopg.errors.DataError) as exc:
        # The rules above leave only what needs the table itself, such as an id given twice.
        detail = f" ({exc.diag.message_detail})" if exc.diag.message_detail else ""
        raise corrupt(
            f"PostgreSQL refused its {table.name} rows: {exc.diag.message_primary}{detail}"
        ) from None
    return rows


def _readable_blocks(
    stream: IO[bytes], table: Table, corrupt: Callable[[str], BackupCorrupt]
) -> Iterator[list[Row]]:
    blocks = read_blocks(stream, table)
    while True:
        try:
            block = next(blocks)
        except StopIteration:
            return
        except Exception as exc:  # fastavro raises many kinds on bytes it cannot decode
            raise corrupt(f"a block cannot be decoded: {exc}") from None
        yield block


class _BlockRules:
    """The dictionary's rules over a block of restored values: each column checked at once, in
    C (min, max, a regular expression mapped over it); only a failing block is read row by row."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self._checks = [c.type.block_check(i, c) for i, c in enumerate(table.columns)]

    def invalid(self, block: list[Row], first_number: int) -> list[tuple[int, list[Reason]]]:
        """The first rows of `block` that break a rule, numbered from `first_number`, with why."""
        if not block or all(check(block) for check in self._checks):
            return []
        found = []
        for number, row in enumerate(block, start=first_number):
            columns = zip(self.table.columns, row, strict=True)
            reasons = [r for c, v in columns for r in c.type.stored_reasons(c, v)]
            if reasons:
                found.append((number, reasons))
                if len(found) == _SHOWN_ROWS:
                    break
        return found


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
                ids = ids or []
                raise RestoreWouldBreakReferences(
                    child.name, column.name, parent, count, ids, more=len(ids) == _SHOWN_IDS
                )
