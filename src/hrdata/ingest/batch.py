"""A batch of rows from the API, checked and written by the same code as a migration file, in
one transaction; retried requests with the same Idempotency-Key are answered, not re-run."""

from __future__ import annotations

import io
import json
import logging
from dataclasses import dataclass, field
from typing import Any

import psycopg

from hrdata.csvfile import LineProblem, printable, read_lines, split_fields
from hrdata.dictionary import Table, trim
from hrdata.errors import BatchSizeError, Code, HrdataError
from hrdata.ingest.jsonbody import RepeatedKeys
from hrdata.ingest.loader import lock_and_read_ids, write_rows
from hrdata.ingest.rejects import RejectSpool, note_unpublished, publish_noted, warn_unwritable
from hrdata.ingest.runs import FileResult
from hrdata.ingest.validate import Item, Record, RowChecker
from hrdata.settings import Settings
from hrdata.wire import MAX_BATCH_ROWS, Reason

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BatchItems:
    """The rows of one request, numbered, and where each came from (index, CSV line)."""

    items: list[tuple[int, Item]]
    index_of: dict[int, int]  # item number -> position of the row in the request
    csv: bool


def json_rows(table: Table, rows: Any) -> BatchItems:
    """The rows of a JSON body `{"rows": [...]}` as records; raises BatchSizeError."""
    _check_size(len(rows))
    columns = frozenset(table.column_names)
    items: list[tuple[int, Item]] = [
        (i, _record(table, columns, row)) for i, row in enumerate(rows)
    ]
    return BatchItems(items, {i: i for i in range(len(items))}, csv=False)


def csv_rows(table: Table, body: bytes, max_line_chars: int) -> BatchItems:
    """The data lines of a CSV body (header optional); raises BatchSizeError."""
    lines = list(
        read_lines(io.BytesIO(body), header=table.column_names, max_line_chars=max_line_chars)
    )
    _check_size(len(lines))
    return BatchItems(list(lines), {number: i for i, (number, _) in enumerate(lines)}, csv=True)


def _check_size(count: int) -> None:
    if not 1 <= count <= MAX_BATCH_ROWS:
        raise BatchSizeError(count, MAX_BATCH_ROWS)


def _record(table: Table, columns: frozenset[str], row: Any) -> Item:
    if not isinstance(row, dict):
        reason = Reason(Code.NOT_AN_OBJECT, "a row must be a JSON object keyed by column name")
        return LineProblem(reason, json.dumps(row)[:200])
    problems = [
        Reason(Code.DUPLICATE_FIELD, f"{key} is given more than once", key)
        for key in map(printable, row.repeated if isinstance(row, RepeatedKeys) else ())
    ]
    unknown = row.keys() - columns
    if unknown:
        names = ", ".join(sorted(printable(str(name)) for name in unknown))
        problems.append(Reason(Code.UNKNOWN_FIELD, f"unknown field(s): {names}"))
    fields = []
    for column in table.columns:
        value = row.get(column.name)
        if value.__class__ is str:
            fields.append(value)
        elif value is None:
            fields.append("")
        else:
            text, problem = column.type.from_json(column, value)
            fields.append(text)
            if problem is not None:
                problems.append(problem)
    return Record(fields, tuple(problems), row)


@dataclass(frozen=True)
class RejectedRow:
    """A row of the request that was not inserted: its index, its CSV line, every reason."""

    index: int | None
    line: int | None
    reasons: list[Reason]


@dataclass
class BatchResult:
    """What happened to a batch; `refused` says why strict mode inserted none of it."""

    request_id: str
    table: str
    inserted: int
    skipped: int
    rejected: list[RejectedRow]
    warnings: list[str] = field(default_factory=list)
    refused: str | None = None


class BatchWriter:
    """Writes one request's batch and then publishes its rejects log; owns the rejects spool.

    `write` runs in a transaction of its own, or inside the caller's (which then commits it, with
    whatever else it wrote); `publish` runs after that commit.
    """

    def __init__(
        self,
        conn: psycopg.Connection,
        settings: Settings,
        table: Table,
        *,
        request_id: str,
        source: str,
    ) -> None:
        self._conn, self._settings, self._table = conn, settings, table
        self._request_id, self._source = request_id, source
        self._spools: list[RejectSpool] = []

    def __enter__(self) -> BatchWriter:
        return self

    def __exit__(self, *_: object) -> None:
        for spool in self._spools:
            spool.close()

    def write(self, batch: BatchItems, *, strict: bool) -> BatchResult:
        """Insert the valid rows (none in strict mode if any is invalid); log the rest."""
        try:
            # First without locking the table, so batches into it run side by side.
            with self._conn.transaction():
                return self._write(batch, strict, exclusive=False)
        except (psycopg.errors.UniqueViolation, psycopg.errors.DeadlockDetected):
            # A concurrent batch stored one of these ids after we looked: do it again,
            # holding the table, so the id is compared with the stored row instead.
            with self._conn.transaction():
                return self._write(batch, strict, exclusive=True)

    def publish(self, result: BatchResult) -> None:
        """Write the rejects log of the committed batch; a warning in `result` if it cannot be."""
        if self._spools and self._spools[-1].count:
            warning = _publish(
                self._conn,
                self._settings,
                self._spools[-1],
                self._request_id,
                self._table,
                self._source,
            )
            if warning is not None:
                result.warnings.append(warning)

    def _write(self, batch: BatchItems, strict: bool, *, exclusive: bool) -> BatchResult:
        conn, table = self._conn, self._table
        spool = RejectSpool(self._request_id, table.name, self._source, keep=True)
        self._spools.append(spool)
        counts = FileResult(table.name, self._source, 0)
        named = _named_ids(table, batch.items)
        known, existing = lock_and_read_ids(conn, table, only=named, exclusive=exclusive)
        try:
            with conn.transaction():  # a savepoint: strict mode undoes the rows, keeps the rejects
                write_rows(
                    conn,
                    table,
                    batch.items,
                    RowChecker(table, known),
                    existing,
                    spool,
                    counts,
                    rows_per_write=MAX_BATCH_ROWS,
                    background_writer=False,
                )
                if strict and spool.count:
                    raise _StrictRefusal
        except _StrictRefusal:
            counts.inserted = 0
            counts.skipped_by_reason.clear()
        if spool.count:
            spool.store(conn)
        result = BatchResult(
            self._request_id,
            table.name,
            counts.inserted,
            counts.skipped,
            # In the request's order: rows rejected while writing (conflicts) come to light later.
            sorted(
                (_rejected_row(batch, number, reasons) for number, reasons in spool.kept or []),
                key=lambda row: row.index or 0,
            ),
        )
        if strict and spool.count:
            result.refused = (
                f"strict mode: {spool.count} of {len(batch.items)} rows are invalid; "
                "none was inserted"
            )
        return result


class _StrictRefusal(Exception):
    pass


def _rejected_row(batch: BatchItems, number: int | None, reasons: list[Reason]) -> RejectedRow:
    index = batch.index_of.get(number or 0, number)
    return RejectedRow(index, number if batch.csv else None, reasons)


def _named_ids(table: Table, items: list[tuple[int, Item]]) -> dict[str, list[int]]:
    """Per table, the ids the batch names (its own keys, and the references to parents).

    A superset is harmless: these ids only say which stored ids to read.
    """
    rows = [
        fields
        for fields in (
            item.fields if isinstance(item, Record) else split_fields(item)
            for _, item in items
            if not isinstance(item, LineProblem)
        )
        if isinstance(fields, list) and len(fields) == len(table.columns)
    ]
    named: dict[str, set[int]] = {table.name: set()}
    for position, column in enumerate(table.columns):
        target = column.references or (table.name if column.primary_key else None)
        if target is not None:
            texts = (trim(row[position]) for row in rows)
            ids = {int(t) for t in texts if t.isdigit() and t.isascii() and len(t) <= 12}
            named.setdefault(target, set()).update(ids)
    return {name: sorted(ids) for name, ids in named.items()}


def _publish(
    conn: psycopg.Connection,
    settings: Settings,
    spool: RejectSpool,
    request_id: str,
    table: Table,
    source: str,
) -> str | None:
    """Write the batch's rejects log; if it cannot be, note it for later and return a warning."""
    name = f"rejects/api/{request_id}-{table.name}.jsonl"
    try:
        spool.publish(settings, name)
    except HrdataError as exc:
        # The rejects are committed in rejected_rows: only the file copy is missing.
        log.warning("rejects log of request %s not written: %s", request_id, exc)
        try:
            with conn.transaction():
                note_unpublished(conn, request_id, table.name, source, name)
        except psycopg.Error:
            log.error("could not note the unwritten rejects log of request %s", request_id)
        return (
            f"the rejects log could not be written ({exc}); the rejects are stored "
            "(GET /v1/rejects) and the log is written later"
        )
    # The location works: write the logs it refused before, if any.
    for warning in warn_unwritable(conn, lambda: publish_noted(conn, settings)):
        log.warning(warning)
    return None
