"""Rejected rows: spooled while a file streams, stored in `rejected_rows` in the same transaction
as the file's data, then published as JSON Lines under the log location (a folder or S3)."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections import Counter
from pathlib import Path
from typing import IO

import psycopg

from hrdata.errors import Reason
from hrdata.ingest.csvfile import printable
from hrdata.s3 import is_s3_uri, s3_client, s3_error, split_s3_uri
from hrdata.settings import Settings

_COLUMNS = "run_id, table_name, source, line, raw, reasons"


def _copy_text(value: str) -> str:
    # JSON has no raw tabs or newlines; only COPY's escape character needs doubling.
    return value.replace("\\", "\\\\")


class RejectSpool:
    """The rejects of one source, counted by reason and kept in a temporary file until stored."""

    def __init__(self, run_id: str, table: str, source: str) -> None:
        self.prefix = "\t".join(_copy_text(v) for v in (run_id, table, source))
        self.count = 0
        self.by_reason: Counter[str] = Counter()
        # Owned by the spool and closed by close(); a with-block cannot span its lifetime.
        self._file: IO[str] = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115

    def add(self, line: int | None, raw: list[str] | str, reasons: list[Reason]) -> None:
        """Record one rejected row: where it was, its values as received, and every reason."""
        shown = [printable(v) for v in raw] if isinstance(raw, list) else printable(raw)
        line_text = "\\N" if line is None else str(line)
        raw_json = _copy_text(json.dumps(shown))
        reasons_json = _copy_text(json.dumps([r.as_dict() for r in reasons]))
        self._file.write(f"{self.prefix}\t{line_text}\t{raw_json}\t{reasons_json}\n")
        self.count += 1
        self.by_reason.update(r.code for r in reasons)

    def store(self, conn: psycopg.Connection) -> None:
        """COPY every spooled reject into `rejected_rows` (in the caller's transaction)."""
        self._file.seek(0)
        with conn.cursor().copy(f"COPY rejected_rows ({_COLUMNS}) FROM STDIN") as copy:
            while chunk := self._file.read(1 << 20):
                copy.write(chunk)

    def close(self) -> None:
        self._file.close()


def publish(conn: psycopg.Connection, settings: Settings, run_id: str) -> list[str]:
    """Write the JSON Lines log of every stored file of `run_id` not yet published; return where.

    Runs after the data is committed, and again at the start of the next run, so a crash
    between commit and publication leaves no reject unpublished.
    """
    pending = conn.execute(
        "SELECT table_name, source FROM load_run_files "
        "WHERE run_id = %s AND rejected > 0 AND rejects_log IS NULL ORDER BY finished_at",
        (run_id,),
    ).fetchall()
    written = []
    for table, source in pending:
        written.append(_publish_one(conn, settings, run_id, table, source))
    conn.commit()
    return written


def publish_pending(conn: psycopg.Connection, settings: Settings) -> None:
    """Publish logs left unpublished by runs that ended (or died) before doing it."""
    runs = conn.execute(
        "SELECT DISTINCT f.run_id FROM load_run_files f JOIN load_runs r USING (run_id) "
        "WHERE f.rejected > 0 AND f.rejects_log IS NULL AND r.status <> 'running'"
    ).fetchall()
    for (run_id,) in runs:
        publish(conn, settings, run_id)


def _publish_one(
    conn: psycopg.Connection, settings: Settings, run_id: str, table: str, source: str
) -> str:
    position = conn.execute(
        "SELECT position FROM load_run_files WHERE run_id = %s AND table_name = %s AND source = %s",
        (run_id, table, source),
    ).fetchone()
    name = f"rejects/{run_id}/{position[0] if position else 0:02d}-{table}.jsonl"
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".jsonl", delete=False) as out:
        rows = conn.execute(
            "SELECT json_build_object('run_id', run_id, 'table', table_name, 'source', source, "
            "'line', line, 'raw', raw, 'reasons', reasons, 'rejected_at', rejected_at)::text "
            "FROM rejected_rows WHERE run_id = %s AND table_name = %s AND source = %s ORDER BY id",
            (run_id, table, source),
        )
        for (record,) in rows:
            out.write(record + "\n")
    destination = _store_log(settings, Path(out.name), name)
    conn.execute(
        "UPDATE load_run_files SET rejects_log = %s "
        "WHERE run_id = %s AND table_name = %s AND source = %s",
        (destination, run_id, table, source),
    )
    return destination


def _store_log(settings: Settings, local: Path, name: str) -> str:
    location = settings.logs_location
    if is_s3_uri(location):
        bucket, prefix = split_s3_uri(location)
        key = f"{prefix.rstrip('/')}/{name}" if prefix else name
        try:
            s3_client(settings).upload_file(str(local), bucket, key)
        except Exception as exc:
            raise s3_error(f"s3://{bucket}/{key}", exc) from exc
        finally:
            local.unlink(missing_ok=True)
        return f"s3://{bucket}/{key}"
    target = Path(location) / name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(local, target)
    return str(target)
