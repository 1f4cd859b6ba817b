"""Rejected rows: spooled while a file streams, stored in `rejected_rows` in the same transaction
as the file's data, then published as JSON Lines under the log location (a folder or S3).

The log is written from the spool right after the commit. If the process dies between the
two, the next run writes it again from `rejected_rows`, so no reject goes unpublished.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import psycopg
from psycopg import sql

from hrdata.csvfile import printable
from hrdata.errors import HrdataError
from hrdata.settings import Settings
from hrdata.storage import log_storage
from hrdata.wire import Reason

DDL: dict[str, tuple[str, ...]] = {
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
}

_COLUMNS = "run_id, table_name, source, line, raw, reasons, rejected_at"


def copy_text(value: str) -> str:
    """`value` as COPY text: its backslashes, COPY's escape character, doubled."""
    # Values written this way hold no raw tab or newline (JSON, ids, checked names).
    return value.replace("\\", "\\\\")


def _storable(raw: Any) -> Any:
    """`raw` with undecodable bytes and NULs replaced, which JSON and PostgreSQL cannot hold."""
    if isinstance(raw, str):
        return printable(raw)
    if isinstance(raw, list):
        return [_storable(value) for value in raw]
    if isinstance(raw, dict):
        return {printable(str(key)): _storable(value) for key, value in raw.items()}
    return raw


def log_name(run_id: str, position: int, table: str) -> str:
    """The log's path under the log location: one file per source of a run."""
    return f"rejects/{run_id}/{position:02d}-{table}.jsonl"


SPOOL_IN_MEMORY_BYTES = 1 << 20


class RejectSpool:
    """The rejects of one source: counted by reason, kept in temporary files until stored."""

    def __init__(self, run_id: str, table: str, source: str, *, keep: bool = False) -> None:
        at = datetime.now(UTC).isoformat()
        self.count = 0
        # A request's rejects are also kept in memory, for its response (at most 1000 rows).
        self.kept: list[tuple[int | None, list[Reason]]] | None = [] if keep else None
        self.by_reason: Counter[str] = Counter()
        self._copy_prefix = "\t".join(copy_text(v) for v in (run_id, table, source))
        self._copy_suffix = at
        head = {"run_id": run_id, "table": table, "source": source}
        self._log_prefix = json.dumps(head)[:-1]
        self._log_suffix = f', "rejected_at": "{at}"}}'
        # Owned by the spool and closed by close(); a with-block cannot span their lifetime.
        self._rows: IO[str] = spool_file()
        self._log: IO[str] = spool_file()

    def add(self, line: int | None, raw: Any, reasons: list[Reason]) -> None:
        """Record one rejected row: where it was, its values as received, and every reason."""
        raw_json = json.dumps(_storable(raw))
        reasons_json = json.dumps([r.as_dict() for r in reasons])
        line_copy = "\\N" if line is None else str(line)
        self._rows.write(
            f"{self._copy_prefix}\t{line_copy}\t{copy_text(raw_json)}\t"
            f"{copy_text(reasons_json)}\t{self._copy_suffix}\n"
        )
        line_json = "null" if line is None else str(line)
        self._log.write(
            f'{self._log_prefix}, "line": {line_json}, "raw": {raw_json}, '
            f'"reasons": {reasons_json}{self._log_suffix}\n'
        )
        self.count += 1
        self.by_reason.update(r.code for r in reasons)
        if self.kept is not None:
            self.kept.append((line, reasons))

    def store(self, conn: psycopg.Connection) -> None:
        """COPY every spooled reject into `rejected_rows` (in the caller's transaction)."""
        self._rows.seek(0)
        with conn.cursor().copy(f"COPY rejected_rows ({_COLUMNS}) FROM STDIN") as copy:
            while chunk := self._rows.read(1 << 20):
                copy.write(chunk)

    def publish(self, settings: Settings, name: str) -> str:
        """Write the JSON Lines log under the log location; return where it went."""
        self._log.seek(0)
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", delete=False) as out:
            shutil.copyfileobj(self._log, out)
        return _store_log(settings, Path(out.name), name)

    def close(self) -> None:
        self._rows.close()
        self._log.close()


def spool_file() -> IO[str]:
    """A text file that stays in memory up to 1 MiB, then moves to disk: an API batch needs no
    file, and a file of a million rejects still takes no more memory than that."""
    return tempfile.SpooledTemporaryFile(
        max_size=SPOOL_IN_MEMORY_BYTES, mode="w+", encoding="utf-8"
    )


@dataclass(frozen=True)
class StoredReject:
    """One row of `rejected_rows`, as the API lists it."""

    id: int
    run_id: str
    table: str
    source: str
    line: int | None
    raw: Any
    reasons: list[dict[str, Any]]
    rejected_at: datetime


def find_rejects(
    conn: psycopg.Connection,
    *,
    after: int,
    limit: int,
    table: str | None = None,
    source: str | None = None,
    run_id: str | None = None,
) -> list[StoredReject]:
    """Stored rejects with an id above `after`, in the order they were logged."""
    conditions: list[sql.Composable] = [sql.SQL("id > %s")]
    params: list[Any] = [after]
    for column, value in (("table_name", table), ("source", source), ("run_id", run_id)):
        if value is not None:
            conditions.append(sql.SQL("{} = %s").format(sql.Identifier(column)))
            params.append(value)
    query = sql.SQL(
        "SELECT id, run_id, table_name, source, line, raw, reasons, rejected_at "
        "FROM rejected_rows WHERE {} ORDER BY id LIMIT %s"
    ).format(sql.SQL(" AND ").join(conditions))
    return [StoredReject(*row) for row in conn.execute(query, (*params, limit))]


def note_unpublished(
    conn: psycopg.Connection, run_id: str, table: str, source: str, name: str
) -> None:
    """Remember a request's log that could not be written, for publish_noted to write."""
    conn.execute(
        "INSERT INTO pending_reject_logs (run_id, table_name, source, name) "
        "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
        (run_id, table, source, name),
    )


def publish_noted(conn: psycopg.Connection, settings: Settings) -> None:
    """Publish the logs of requests whose location failed, from `rejected_rows`."""
    # Row by row, skipping those another process is writing at this moment.
    while row := conn.execute(
        "SELECT run_id, table_name, source, name FROM pending_reject_logs "
        "ORDER BY noted_at LIMIT 1 FOR UPDATE SKIP LOCKED"
    ).fetchone():
        run_id, table, source, name = row
        export_log(conn, settings, run_id, table, source, name)
        conn.execute(
            "DELETE FROM pending_reject_logs WHERE run_id = %s AND table_name = %s AND source = %s",
            (run_id, table, source),
        )
        conn.commit()


def warn_unwritable(conn: psycopg.Connection, publish: Callable[[], None]) -> list[str]:
    """Run `publish` and commit; a warning instead when the log location still refuses."""
    try:
        publish()
    except HrdataError as exc:
        conn.rollback()
        return [
            f"rejects logs left unwritten earlier still cannot be written ({exc}); "
            "their rejects are in rejected_rows and the next run tries again"
        ]
    conn.commit()
    return []


def export_log(
    conn: psycopg.Connection, settings: Settings, run_id: str, table: str, source: str, name: str
) -> str:
    with (
        tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".jsonl", delete=False) as out,
        conn.cursor(name="hrdata_rejects") as rows,  # server-side: memory stays flat
    ):
        rows.itersize = 10_000
        rows.execute(
            "SELECT json_build_object('run_id', run_id, 'table', table_name, 'source', source, "
            "'line', line, 'raw', raw, 'reasons', reasons, 'rejected_at', rejected_at)::text "
            "FROM rejected_rows WHERE run_id = %s AND table_name = %s AND source = %s ORDER BY id",
            (run_id, table, source),
        )
        for (record,) in rows:
            out.write(record + "\n")
    return _store_log(settings, Path(out.name), name)


def _store_log(settings: Settings, local: Path, name: str) -> str:
    storage = log_storage(settings)
    try:
        storage.put(local, name)
    finally:
        local.unlink(missing_ok=True)
    return storage.where(name)
