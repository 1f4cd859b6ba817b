"""The job runner: a job is a row of `background_jobs` and a thread of this process, with its
progress kept in PostgreSQL so every API process sees every job.

While a job runs, a connection of its own holds an advisory lock named after it. If the process
dies (killed, restarted), PostgreSQL drops the connection and the lock with it, so whoever reads
the job next sees it `interrupted` instead of `running` forever.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from hrdata.db import connect, connection
from hrdata.errors import HrdataError, NotFound, RunPartlyLoaded
from hrdata.ingest.sources import Source
from hrdata.settings import Settings
from hrdata.wire import Job

log = logging.getLogger(__name__)

DDL: dict[str, tuple[str, ...]] = {
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
}

_PROGRESS_EVERY_SECONDS = 0.5
_JOB_LOCK_CLASS = 0x6A6F  # advisory lock class of running jobs ("jo")
_INTERRUPTED = (
    "the process running this job stopped before it finished (killed or restarted); "
    "what it left is consistent (a migration keeps each file it finished, a restore or "
    "backup left nothing half-written): start it again"
)


# What a job does: given its progress reporter, return (final status, result).
Work = Callable[["Progress"], tuple[str, dict[str, Any]]]


def start_job(
    conn: psycopg.Connection, settings: Settings, kind: str, request: dict[str, Any], work: Work
) -> str:
    """Record a job and run `work` in a thread of this process; return the job's id."""
    job_id = secrets.token_hex(8)
    # Locked before the row exists, so no reader ever sees a running job without its lock.
    alive = connect(settings, autocommit=True)
    try:
        alive.execute("SELECT pg_advisory_lock(%s, hashtext(%s))", (_JOB_LOCK_CLASS, job_id))
        with conn.transaction():
            conn.execute(
                "INSERT INTO background_jobs (job_id, kind, status, request) "
                "VALUES (%s, %s, 'running', %s)",
                (job_id, kind, Jsonb(request)),
            )
    except BaseException:
        alive.close()
        raise
    worker = threading.Thread(
        target=_run, args=(settings, job_id, work, alive), name=f"{kind}-{job_id}", daemon=True
    )
    worker.start()
    return job_id


def get_job(conn: psycopg.Connection, job_id: str) -> Job:
    """The job's status, progress and result; raises NotFound."""
    _mark_if_orphaned(conn, job_id)
    row = conn.execute(
        "SELECT job_id, kind, status, request, progress, result, error, created_at, updated_at "
        "FROM background_jobs WHERE job_id = %s",
        (job_id,),
    ).fetchone()
    if row is None:
        raise NotFound(f"no job {job_id!r}")
    return Job(**dict(zip(Job.model_fields, row, strict=True)))


def _mark_if_orphaned(conn: psycopg.Connection, job_id: str) -> None:
    """A running job whose lock is free has lost its process: record it as interrupted."""
    with conn.transaction():
        running = conn.execute(
            "SELECT 1 FROM background_jobs WHERE job_id = %s AND status = 'running' FOR UPDATE",
            (job_id,),
        ).fetchone()
        if running is None:
            return
        # Transaction-level: taken only to look, released at commit.
        orphaned = conn.execute(
            "SELECT pg_try_advisory_xact_lock(%s, hashtext(%s))", (_JOB_LOCK_CLASS, job_id)
        ).fetchone()
        if orphaned and orphaned[0]:
            conn.execute(
                "UPDATE background_jobs SET status = 'interrupted', error = %s, "
                "updated_at = now() WHERE job_id = %s",
                (_INTERRUPTED, job_id),
            )


def _run(settings: Settings, job_id: str, work: Work, alive: psycopg.Connection) -> None:
    progress = Progress(settings, job_id)
    try:
        status, result = work(progress)
        _finish(settings, job_id, status, result, None, progress.snapshot())
    except HrdataError as exc:
        # A migration stopped midway still says which of its files are in.
        partial = exc.report if isinstance(exc, RunPartlyLoaded) else None
        _finish(settings, job_id, "failed", partial, str(exc), progress.snapshot())
    except Exception:
        log.exception("job failed", extra={"job_id": job_id})
        message = "internal error (see the server log)"
        _finish(settings, job_id, "failed", None, message, progress.snapshot())
    finally:
        alive.close()  # after the end is recorded: the lock goes with the connection


class Progress:
    """Bytes read per source, or rows per table done, written to the job row at most twice a
    second (and once more at the end)."""

    def __init__(self, settings: Settings, job_id: str) -> None:
        self.settings, self.job_id = settings, job_id
        self.files: dict[str, dict[str, Any]] = {}
        self.tables: dict[str, int] = {}
        self._written = 0.0

    def track(self, source: Source) -> Callable[[int], None]:
        entry = {"table": source.table.name, "bytes_read": 0, "bytes_total": source.size}
        self.files[source.name] = entry

        def update(done: int) -> None:
            entry["bytes_read"] = done
            if time.monotonic() - self._written >= _PROGRESS_EVERY_SECONDS:
                self._write()

        return update

    def table_done(self, table: str, rows: int) -> None:
        """A backup or restore finished one table (a restore commits them all at the end)."""
        self.tables[table] = rows
        self._write()

    def snapshot(self) -> dict[str, Any]:
        return {"files": self.files} if self.files else {"tables": self.tables}

    def _write(self) -> None:
        self._written = time.monotonic()
        try:
            with connection(self.settings, autocommit=True) as conn:
                conn.execute(
                    "UPDATE background_jobs SET progress = %s, updated_at = now() "
                    "WHERE job_id = %s",
                    (Jsonb(self.snapshot()), self.job_id),
                )
        except HrdataError:
            pass  # progress is best effort; the result is written at the end


def _finish(
    settings: Settings,
    job_id: str,
    status: str,
    result: dict[str, Any] | None,
    error: str | None,
    progress: dict[str, Any],
) -> None:
    try:
        with connection(settings, autocommit=True) as conn:
            conn.execute(
                "UPDATE background_jobs SET status = %s, result = %s, error = %s, progress = %s, "
                "updated_at = now() WHERE job_id = %s",
                (status, Jsonb(result) if result else None, error, Jsonb(progress), job_id),
            )
    except HrdataError:
        log.error("could not record the end of job", extra={"job_id": job_id, "status": status})
