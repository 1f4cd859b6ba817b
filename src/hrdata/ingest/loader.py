"""One source loaded into its table in one transaction: all of it, or (after a crash) none.

How a file goes in, and why it is fast:
- the table is locked against other writers, its parents against changes, and the ids already
  present (and the parents' ids) are read into compact bitmaps;
- every line is checked in Python against the dictionary, references against those bitmaps;
- new rows stream straight into the table with COPY; reference triggers are skipped when the
  server allows it, because every reference was already checked under the parents' lock;
- rows whose id is already taken (in the table, or earlier in the file) are compared with the
  stored row in one set-based query: identical ones are skipped, different ones rejected.
"""

from __future__ import annotations

import json
import re
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import IO

import psycopg
from psycopg import sql
from psycopg.copy import QueuedLibpqWriter

from hrdata.csvfile import read_lines
from hrdata.dictionary import Column, Table, name_key
from hrdata.errors import BadRejectLimit, Code, HeaderMismatch, HrdataError, SourceError
from hrdata.ingest.idset import IdSet
from hrdata.ingest.rejects import RejectSpool, copy_text, log_name, spool_file
from hrdata.ingest.runs import FileResult, record_file, record_log
from hrdata.ingest.sources import Source, open_source
from hrdata.ingest.validate import Ids, Item, Rejected, RowChecker, raw_of
from hrdata.settings import Settings
from hrdata.wire import Reason

# Where a row's id was already (its code when identical, a skip) to its code when it differs.
_CONFLICT_CODES = {
    Code.ALREADY_PRESENT: Code.CONFLICT,
    Code.DUPLICATE_IN_SOURCE: Code.DUPLICATE_CONFLICT,
}

Progress = Callable[[int], None]


@dataclass(frozen=True)
class RejectLimit:
    """--max-rejects: a count (`100`) or a share of rows read (`2%`); None means no limit."""

    count: int | None = None
    percent: float | None = None

    @classmethod
    def parse(cls, text: str | None) -> RejectLimit:
        if not text:
            return cls()
        match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(%?)\s*", text)
        if match is None or (not match.group(2) and "." in match.group(1)):
            raise BadRejectLimit(text)
        if match.group(2):
            return cls(percent=float(match.group(1)))
        return cls(count=int(match.group(1)))

    def exceeded(self, rejected: int, read: int) -> bool:
        if self.count is not None:
            return rejected > self.count
        if self.percent is not None:
            return rejected * 100 > self.percent * read
        return False


@dataclass(frozen=True)
class LoadOptions:
    """How files are read and written: reject limit, longest line, rows per COPY write."""

    limit: RejectLimit = RejectLimit()
    max_line_chars: int = 1 << 20
    rows_per_write: int = 4096


class _OverLimit(Exception):
    def __init__(self, result: FileResult) -> None:
        self.result = result


def load_file(
    conn: psycopg.Connection,
    source: Source,
    *,
    run_id: str,
    position: int,
    options: LoadOptions,
    settings: Settings,
    progress: Progress = lambda _: None,
) -> FileResult:
    """Load `source` into its table and record its rejects, atomically; return the counts.

    When the rejects exceed the limit, none of the file's rows are kept but its rejects are.
    After the commit the rejects are published as JSON Lines.
    """
    spool = RejectSpool(run_id, source.table.name, source.name)
    try:
        try:
            with conn.transaction():
                result = _load(conn, source, spool, position, options, progress)
                if options.limit.exceeded(result.rejected, result.read):
                    raise _OverLimit(result)
                record_file(conn, run_id, result, spool)
        except _OverLimit as over:
            result = over.result
            result.status, result.inserted = "over_reject_limit", 0
            result.skipped_by_reason.clear()
            with conn.transaction():
                record_file(conn, run_id, result, spool)
        if spool.count:
            _publish(conn, settings, run_id, result, spool)
        return result
    finally:
        spool.close()


def _publish(
    conn: psycopg.Connection,
    settings: Settings,
    run_id: str,
    result: FileResult,
    spool: RejectSpool,
) -> None:
    name = log_name(run_id, result.position, result.table)
    try:
        result.rejects_log = spool.publish(settings, name)
    except HrdataError as exc:
        # The rejects are committed in rejected_rows; the next run publishes this log.
        result.warning = (
            f"{result.source}: its rejects log could not be written ({exc}); "
            "its rejects are in rejected_rows and the next run writes the log"
        )
        return
    with conn.transaction():
        record_log(conn, run_id, result.table, result.source, result.rejects_log)


def _load(
    conn: psycopg.Connection,
    source: Source,
    spool: RejectSpool,
    position: int,
    options: LoadOptions,
    progress: Progress,
) -> FileResult:
    table = source.table
    result = FileResult(table.name, source.name, position)
    known, existing = lock_and_read_ids(conn, table)
    checker = RowChecker(table, known)
    with open_source(source) as (stream, counter):
        lines = read_lines(stream, header=table.column_names, max_line_chars=options.max_line_chars)
        try:
            write_rows(
                conn,
                table,
                lines,
                checker,
                existing,
                spool,
                result,
                rows_per_write=options.rows_per_write,
                on_write=lambda: progress(counter.count),
            )
        except (OSError, EOFError, zlib.error) as exc:
            message = f"reading failed after {counter.count} bytes: {exc}"
            raise SourceError(source.name, message) from exc
        except HeaderMismatch as exc:
            raise SourceError(source.name, str(exc)) from None
        progress(counter.count)
    return result


def write_rows(
    conn: psycopg.Connection,
    table: Table,
    items: Iterable[tuple[int, Item]],
    checker: RowChecker,
    existing: Ids,
    spool: RejectSpool,
    result: FileResult,
    *,
    rows_per_write: int,
    on_write: Callable[[], None] = lambda: None,
    background_writer: bool = True,
) -> None:
    """Check every numbered item; COPY new valid rows into `table`; spool every reject.

    Rows whose id is in `existing` or earlier in `items` are then compared with the stored
    row: skipped when identical, rejected when not. Counts go into `result`. The caller holds
    the locks (see lock_and_read_ids) and the transaction.
    """
    seen = IdSet()
    read = 0
    names = _Names.stored(conn, table)
    with spool_file() as candidates:
        cursor = conn.cursor()
        # A file streams for seconds: a writer thread sends while Python reads on. A small
        # batch is sent in one go, and a thread per batch would only cost.
        writer = QueuedLibpqWriter(cursor) if background_writer else None
        with cursor.copy(_copy_statement(table), writer=writer) as copy:
            pending: list[str] = []
            row_values = checker.values
            for number, item in items:
                read += 1
                try:
                    values = row_values(item)
                except Rejected as rejected:
                    spool.add(number, rejected.raw, rejected.reasons)
                    continue
                key = int(values[0])
                if key in existing:
                    _write_candidate(candidates, number, Code.ALREADY_PRESENT, item, values)
                elif not seen.add(key):
                    _write_candidate(candidates, number, Code.DUPLICATE_IN_SOURCE, item, values)
                elif names is not None and (taken := names.claim(key, values)) is not None:
                    seen.discard(key)  # a rejected row is no occurrence of its id
                    spool.add(number, raw_of(item), [taken])
                else:
                    pending.append("\t".join(values))
                    if len(pending) == rows_per_write:
                        copy.write("\n".join(pending) + "\n")
                        pending.clear()
                        on_write()
            if pending:
                copy.write("\n".join(pending) + "\n")
        result.read = read
        result.inserted = len(seen)
        _resolve_candidates(conn, table, candidates, spool, result)
    result.rejected = spool.count
    result.rejected_by_reason = spool.by_reason


class _Names:
    """The names of a table's `unique_name` column, each with the id that holds it."""

    def __init__(self, column: Column, position: int, holders: dict[str, int]) -> None:
        self.column, self.position, self.holders = column, position, holders

    @classmethod
    def stored(cls, conn: psycopg.Connection, table: Table) -> _Names | None:
        """The names stored in `table`, or None when its names need not be unique."""
        column = table.unique_name_column
        if column is None:
            return None
        query = sql.SQL("SELECT id, {} FROM {}").format(
            sql.Identifier(column.name), sql.Identifier(table.name)
        )
        # Keyed as rows come to write_rows: in COPY text form, backslashes doubled.
        holders = {name_key(copy_text(name)): key for key, name in conn.execute(query)}
        return cls(column, table.columns.index(column), holders)

    def claim(self, key: int, values: Sequence[str]) -> Reason | None:
        """Give the row's name to id `key`, or say which id already holds it."""
        name = values[self.position]
        holder = self.holders.setdefault(name_key(name), key)
        if holder == key:
            return None
        shown = name.replace("\\\\", "\\")
        message = f"{self.column.name} {shown!r} is already the name of id {holder}"
        return Reason(Code.NAME_TAKEN, message, self.column.name)


def _copy_statement(table: Table) -> sql.Composed:
    columns = sql.SQL(", ").join(map(sql.Identifier, table.column_names))
    return sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(table.name), columns)


def lock_and_read_ids(
    conn: psycopg.Connection,
    table: Table,
    only: Mapping[str, list[int]] | None = None,
    *,
    exclusive: bool = True,
) -> tuple[dict[str, Ids], Ids]:
    """Lock `table` against other writers and its parents against change; read their ids.

    Returns the ids of each parent and of `table` itself; with `only`, just those of the ids
    listed per table that exist (a small batch needs no more). Without `exclusive`, other
    writers may add rows meanwhile: the caller must expect a unique violation.
    """
    # Two batches naming one new department each would both find the name free: a table whose
    # names are unique is written by one writer at a time (its rows are few, and rarely new).
    if exclusive or table.unique_name_column is not None:
        conn.execute(
            sql.SQL("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE").format(sql.Identifier(table.name))
        )
    if table.parents:
        conn.execute(
            sql.SQL("LOCK TABLE {} IN SHARE MODE").format(
                sql.SQL(", ").join(map(sql.Identifier, table.parents))
            )
        )
        _skip_reference_triggers(conn)
    wanted = (lambda name: only.get(name, [])) if only is not None else (lambda name: None)
    known = {p: _small_as_set(_ids_of(conn, p, wanted(p))) for p in table.parents}
    return known, _small_as_set(_ids_of(conn, table.name, wanted(table.name)))


def _small_as_set(ids: IdSet) -> Ids:
    # A frozenset answers `in` in C, several times faster than the bitmap; small tables
    # (every parent, and an empty table on a first load) fit one easily.
    return frozenset(ids) if len(ids) <= 100_000 else ids


def _ids_of(conn: psycopg.Connection, table_name: str, only: list[int] | None) -> IdSet:
    query = sql.SQL("SELECT id FROM {}").format(sql.Identifier(table_name))
    if only is not None:
        # A plain query: a cursor would be planned for its first rows and, on a table without
        # statistics yet, read all of it to find a batch's few ids.
        found = conn.execute(query + sql.SQL(" WHERE id = ANY(%s)"), (only,))
        return IdSet(key for (key,) in found)
    ids = IdSet()
    with conn.cursor(name="hrdata_ids") as cursor:  # server-side: a whole table, flat memory
        cursor.itersize = 100_000
        cursor.execute(query)
        for (key,) in cursor:
            ids.add(key)
    return ids


def _skip_reference_triggers(conn: psycopg.Connection) -> bool:
    """Turn off per-row reference triggers for this transaction, when the role may do so.

    Safe only because every reference is checked in memory while the parents are locked.
    """
    try:
        with conn.transaction():
            conn.execute("SET LOCAL session_replication_role = replica")
        return True
    except psycopg.errors.InsufficientPrivilege:
        return False


def _write_candidate(
    out: IO[str], number: int, kind: str, item: Item, values: Sequence[str]
) -> None:
    raw = copy_text(json.dumps(raw_of(item)))
    out.write(f"{number}\t{kind}\t{raw}\t" + "\t".join(values) + "\n")


def _resolve_candidates(
    conn: psycopg.Connection,
    table: Table,
    candidates: IO[str],
    spool: RejectSpool,
    result: FileResult,
) -> None:
    """Skip rows identical to the stored row with their id; reject the ones that differ."""
    if candidates.tell() == 0:
        return
    columns = table.column_names
    conn.execute(
        sql.SQL(
            "CREATE TEMP TABLE hrdata_candidates "
            "(line bigint, kind text, raw jsonb, {}) ON COMMIT DROP"
        ).format(
            sql.SQL(", ").join(
                sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(c.sql_type))
                for c in table.columns
            )
        )
    )
    candidates.seek(0)
    with conn.cursor().copy("COPY hrdata_candidates FROM STDIN") as copy:
        while chunk := candidates.read(1 << 20):
            copy.write(chunk)
    totals: Counter[str] = Counter(
        dict(conn.execute("SELECT kind, count(*) FROM hrdata_candidates GROUP BY kind").fetchall())
    )
    stored = sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(c)) for c in columns)
    mine = sql.SQL(", ").join(sql.SQL("c.{}").format(sql.Identifier(c)) for c in columns)
    width = len(columns)
    with conn.cursor(name="hrdata_conflicts") as conflicts:  # server-side: memory stays flat
        conflicts.itersize = 10_000
        conflicts.execute(
            sql.SQL(
                "SELECT c.line, c.kind, c.raw, {mine}, {stored} FROM hrdata_candidates c "
                "JOIN {table} t ON t.id = c.id "
                "WHERE ({mine}) IS DISTINCT FROM ({stored}) ORDER BY c.line"
            ).format(mine=mine, stored=stored, table=sql.Identifier(table.name))
        )
        for row in conflicts:
            line, kind, raw = row[0], row[1], row[2]
            given, kept = row[3 : 3 + width], row[3 + width :]
            spool.add(line, raw, [_conflict_reason(table, kind, given, kept)])
            totals[kind] -= 1
    result.skipped_by_reason.update({kind: count for kind, count in totals.items() if count})


def _conflict_reason(
    table: Table, kind: str, given: tuple[object, ...], kept: tuple[object, ...]
) -> Reason:
    differences = ", ".join(
        f"{name} {mine!s} here vs {theirs!s}"
        for name, mine, theirs in zip(table.column_names, given, kept, strict=True)
        if mine != theirs
    )
    where = f"in {table.name}" if kind == Code.ALREADY_PRESENT else "earlier in this source"
    message = f"id {given[0]} already exists {where} with different values ({differences})"
    return Reason(_CONFLICT_CODES[kind], message, table.key.name)
