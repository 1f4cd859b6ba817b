"""A batch of rows from the API, checked and written by the same code as a migration file, in
one transaction; retried requests with the same Idempotency-Key are answered, not re-run."""

from __future__ import annotations

import hashlib
import io
import json
import logging
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from hrdata.dictionary import MAX_INTEGER, Table, trim
from hrdata.errors import BatchSizeError, HrdataError, IdempotencyConflict, Reason
from hrdata.ingest.csvfile import LineProblem, printable, read_lines, split_fields
from hrdata.ingest.jsonbody import LongNumber, RepeatedKeys
from hrdata.ingest.loader import lock_and_read_ids, write_rows
from hrdata.ingest.rejects import RejectSpool, note_unpublished, publish_noted, warn_unwritable
from hrdata.ingest.runs import FileResult
from hrdata.ingest.validate import Item, Record, RowChecker
from hrdata.settings import Settings

log = logging.getLogger(__name__)

DDL: dict[str, tuple[str, ...]] = {
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
}

MAX_ROWS = 1000
_JSON_TYPES = {
    bool: "a boolean",
    int: "an integer",
    LongNumber: "an integer",
    float: "a number",
    str: "a string",
}


@dataclass(frozen=True)
class Idempotency:
    """An Idempotency-Key, scoped to the API key that sent it, and a hash of its request."""

    owner: str
    key: str
    request_hash: str

    @classmethod
    def of(cls, owner: str, key: str, *request_parts: bytes | str) -> Idempotency:
        digest = hashlib.sha256()
        for part in request_parts:
            digest.update(part.encode() if isinstance(part, str) else part)
            digest.update(b"\0")
        return cls(owner, key, digest.hexdigest())


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
    if not 1 <= count <= MAX_ROWS:
        raise BatchSizeError(f"a batch holds 1 to {MAX_ROWS} rows; this one has {count}")


def _record(table: Table, columns: frozenset[str], row: Any) -> Item:
    if not isinstance(row, dict):
        reason = Reason("not_an_object", "a row must be a JSON object keyed by column name")
        return LineProblem(reason, json.dumps(row)[:200])
    problems = [
        Reason("duplicate_field", f"{key} is given more than once", key)
        for key in map(printable, row.repeated if isinstance(row, RepeatedKeys) else ())
    ]
    unknown = row.keys() - columns
    if unknown:
        names = ", ".join(sorted(printable(str(name)) for name in unknown))
        problems.append(Reason("unknown_field", f"unknown field(s): {names}"))
    fields = []
    for column in table.columns:
        value = row.get(column.name)
        if value.__class__ is str:
            fields.append(value)
        elif value is None:
            fields.append("")
        elif column.type == "integer" and value.__class__ is int:
            fields.append(str(value))
        elif column.type == "integer" and isinstance(value, LongNumber):
            message = (
                f"{column.name} has {len(value)} digits: ids are integers from 1 to {MAX_INTEGER}"
            )
            problems.append(Reason("out_of_range", message, column.name))
            fields.append("")
        else:
            expected = "an integer" if column.type == "integer" else "a string"
            given = _JSON_TYPES.get(type(value), "an object or array")
            message = f"{column.name} must be {expected}, not {given}"
            problems.append(Reason("wrong_type", message, column.name))
            fields.append("")
    return Record(fields, tuple(problems), row)


def write_batch(
    conn: psycopg.Connection,
    settings: Settings,
    table: Table,
    batch: BatchItems,
    *,
    request_id: str,
    source: str,
    strict: bool,
    idempotency: Idempotency | None,
) -> tuple[int, dict[str, Any]]:
    """Insert the valid rows of `batch` (none in strict mode if any is invalid), log the rest.

    Returns the HTTP status and body; a retried request gets the first answer again.
    """
    spools: list[RejectSpool] = []
    try:
        with conn.transaction():
            if idempotency is not None:
                stored = _claim(conn, idempotency)
                if stored is not None:
                    return stored
            try:
                # First without locking the table, so batches into it run side by side.
                with conn.transaction():
                    spools.append(RejectSpool(request_id, table.name, source, keep=True))
                    status, body = _write(
                        conn, table, batch, spools[-1], request_id, source, strict
                    )
            except (psycopg.errors.UniqueViolation, psycopg.errors.DeadlockDetected):
                # A concurrent batch stored one of these ids after we looked: do it again,
                # holding the table, so the id is compared with the stored row instead.
                spools.append(RejectSpool(request_id, table.name, source, keep=True))
                status, body = _write(
                    conn, table, batch, spools[-1], request_id, source, strict, exclusive=True
                )
            if idempotency is not None:
                _remember(conn, idempotency, status, body)
        if spools[-1].count:
            warning = _publish(conn, settings, spools[-1], request_id, table, source)
            if warning is not None:
                body = {**body, "warnings": [*body["warnings"], warning]}
        return status, body
    finally:
        for spool in spools:
            spool.close()


class _StrictRefusal(Exception):
    pass


def _write(
    conn: psycopg.Connection,
    table: Table,
    batch: BatchItems,
    spool: RejectSpool,
    request_id: str,
    source: str,
    strict: bool,
    *,
    exclusive: bool = False,
) -> tuple[int, dict[str, Any]]:
    result = FileResult(table.name, source, 0)
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
                result,
                rows_per_write=MAX_ROWS,
                background_writer=False,
            )
            if strict and spool.count:
                raise _StrictRefusal
    except _StrictRefusal:
        result.inserted = 0
        result.skipped_by_reason.clear()
    if spool.count:
        spool.store(conn)
    body: dict[str, Any] = {
        "request_id": request_id,
        "table": table.name,
        "inserted": result.inserted,
        "skipped": result.skipped,
        # In the request's order: rows rejected while writing (conflicts) come to light later.
        "rejected": sorted(
            (_rejected_row(batch, number, reasons) for number, reasons in spool.kept or []),
            key=lambda row: row["index"],
        ),
        "warnings": [],
    }
    if strict and spool.count:
        message = (
            f"strict mode: {spool.count} of {len(batch.items)} rows are invalid; none was inserted"
        )
        body["error"] = {"type": "rows_rejected", "message": message}
        return 422, body
    return 200, body


def _rejected_row(batch: BatchItems, number: int | None, reasons: list[Reason]) -> dict[str, Any]:
    row: dict[str, Any] = {"index": batch.index_of.get(number or 0, number)}
    if batch.csv:
        row["line"] = number
    row["reasons"] = [r.as_dict() for r in reasons]
    return row


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


def _claim(conn: psycopg.Connection, idempotency: Idempotency) -> tuple[int, dict[str, Any]] | None:
    """Take the key for this request, or return the answer stored by the request that holds it.

    A concurrent request with the same key waits here until the first one commits (or rolls
    back, and then this one goes ahead).
    """
    claimed = conn.execute(
        "INSERT INTO idempotency_keys (owner, key, request_hash) VALUES (%s, %s, %s) "
        "ON CONFLICT (owner, key) DO NOTHING RETURNING key",
        (idempotency.owner, idempotency.key, idempotency.request_hash),
    ).fetchone()
    if claimed is not None:
        return None
    row = conn.execute(
        "SELECT request_hash, status_code, response FROM idempotency_keys "
        "WHERE owner = %s AND key = %s",
        (idempotency.owner, idempotency.key),
    ).fetchone()
    assert row is not None
    if row[0] != idempotency.request_hash:
        raise IdempotencyConflict(
            f"Idempotency-Key {idempotency.key!r} was already used for a different request"
        )
    return int(row[1]), dict(row[2])


def _remember(
    conn: psycopg.Connection, idempotency: Idempotency, status: int, body: dict[str, Any]
) -> None:
    conn.execute(
        "UPDATE idempotency_keys SET status_code = %s, response = %s WHERE owner = %s AND key = %s",
        (status, Jsonb(body), idempotency.owner, idempotency.key),
    )


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
