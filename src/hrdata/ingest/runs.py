"""Runs and their files: what a migration read, kept, skipped and rejected, recorded in
`load_runs` and `load_run_files`, and the publishing of rejects logs a run left unwritten."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from hrdata.ingest.rejects import RejectSpool, export_log, log_name, publish_noted, warn_unwritable
from hrdata.settings import Settings

DDL: dict[str, tuple[str, ...]] = {
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
}

# Advisory-lock class of a running run: held by its process, so a free lock means it is gone.
RUN_LOCK_CLASS = 0x6872


@dataclass
class FileResult:
    """What happened to one source: rows read, inserted, skipped and rejected (by reason)."""

    table: str
    source: str
    position: int
    status: str = "loaded"
    read: int = 0
    inserted: int = 0
    skipped_by_reason: Counter[str] = field(default_factory=Counter)
    rejected: int = 0
    rejected_by_reason: Counter[str] = field(default_factory=Counter)
    rejects_log: str | None = None
    warning: str | None = None  # what went wrong after the commit (the log not written)
    error: str | None = None  # why a file that failed is not in

    @property
    def skipped(self) -> int:
        return sum(self.skipped_by_reason.values())


@dataclass
class RunSummary:
    run_id: str
    status: str = "running"
    files: list[FileResult] = field(default_factory=list)
    # What went wrong beside the data, which is in: a rejects log not written yet.
    warnings: list[str] = field(default_factory=list)
    # What the run did that was not asked in so many words: a file named twice, read once.
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "succeeded"

    def as_dict(self) -> dict[str, Any]:
        """The summary as --json prints it: counts per table, then per file."""
        tables: dict[str, dict[str, Any]] = {}
        for result in self.files:
            entry = tables.setdefault(
                result.table,
                {
                    "read": 0,
                    "inserted": 0,
                    "skipped": 0,
                    "rejected": 0,
                    "skipped_by_reason": Counter(),
                    "rejected_by_reason": Counter(),
                    "files": [],
                },
            )
            for key in ("read", "inserted", "skipped", "rejected"):
                entry[key] += getattr(result, key)
            entry["skipped_by_reason"].update(result.skipped_by_reason)
            entry["rejected_by_reason"].update(result.rejected_by_reason)
            entry["files"].append(
                {
                    "source": result.source,
                    "status": result.status,
                    "read": result.read,
                    "inserted": result.inserted,
                    "skipped": result.skipped,
                    "rejected": result.rejected,
                    "rejects_log": result.rejects_log,
                    "error": result.error,
                }
            )
        for entry in tables.values():
            entry["skipped_by_reason"] = dict(entry["skipped_by_reason"])
            entry["rejected_by_reason"] = dict(entry["rejected_by_reason"])
        return {
            "run_id": self.run_id,
            "status": self.status,
            "tables": tables,
            "warnings": self.warnings,
            "notes": self.notes,
        }


def start_run(conn: psycopg.Connection, run_id: str, specs: list[str]) -> None:
    """Record the run as running, holding its lock for as long as this session lives."""
    conn.execute("SELECT pg_advisory_lock(%s, hashtext(%s))", (RUN_LOCK_CLASS, run_id))
    conn.execute(
        "INSERT INTO load_runs (run_id, status, sources) VALUES (%s, 'running', %s)",
        (run_id, Jsonb(specs)),
    )


def mark_interrupted(conn: psycopg.Connection) -> None:
    """Runs still marked running whose process is gone (their lock is free) were interrupted."""
    running = conn.execute("SELECT run_id FROM load_runs WHERE status = 'running'").fetchall()
    for (run_id,) in running:
        free = conn.execute(
            "SELECT pg_try_advisory_lock(%s, hashtext(%s))", (RUN_LOCK_CLASS, run_id)
        ).fetchone()
        if free and free[0]:
            conn.execute("UPDATE load_runs SET status = 'interrupted' WHERE run_id = %s", (run_id,))
            conn.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", (RUN_LOCK_CLASS, run_id))
    conn.commit()


def finish_run(conn: psycopg.Connection, summary: RunSummary, error: str | None) -> None:
    conn.execute(
        "UPDATE load_runs SET status = %s, finished_at = now(), error = %s WHERE run_id = %s",
        (summary.status, error, summary.run_id),
    )
    conn.commit()


def record_file(
    conn: psycopg.Connection, run_id: str, result: FileResult, spool: RejectSpool
) -> None:
    """Store a file's rejects and its counts (in the caller's transaction)."""
    spool.store(conn)
    conn.execute(
        "INSERT INTO load_run_files (run_id, table_name, source, position, status, read, inserted, "
        "skipped, rejected, skipped_by_reason, rejected_by_reason) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            run_id,
            result.table,
            result.source,
            result.position,
            result.status,
            result.read,
            result.inserted,
            result.skipped,
            result.rejected,
            json.dumps(result.skipped_by_reason),
            json.dumps(result.rejected_by_reason),
        ),
    )


def record_log(
    conn: psycopg.Connection, run_id: str, table: str, source: str, location: str
) -> None:
    """Note in `load_run_files` where a file's rejects log was published."""
    conn.execute(
        "UPDATE load_run_files SET rejects_log = %s "
        "WHERE run_id = %s AND table_name = %s AND source = %s",
        (location, run_id, table, source),
    )


def publish_pending(conn: psycopg.Connection, settings: Settings) -> list[str]:
    """Publish, from `rejected_rows`, the logs not written yet: those of runs that died after a
    commit or whose location failed, and those of requests whose location failed.

    Returns a warning when some still cannot be written; they are tried again next time.
    """

    def publish() -> None:
        pending = conn.execute(
            "SELECT f.run_id, f.table_name, f.source, f.position FROM load_run_files f "
            "JOIN load_runs r USING (run_id) "
            "WHERE f.rejected > 0 AND f.rejects_log IS NULL AND r.status <> 'running'"
        ).fetchall()
        for run_id, table, source, position in pending:
            name = log_name(run_id, position, table)
            location = export_log(conn, settings, run_id, table, source, name)
            record_log(conn, run_id, table, source, location)
            conn.commit()
        publish_noted(conn, settings)

    return warn_unwritable(conn, publish)
