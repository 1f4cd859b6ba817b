"""What each kind of job does: a migration, a backup, a verify and a restore, each started
through the runner with the request it was asked with."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import psycopg

from hrdata.backup.restore import restore
from hrdata.backup.sets import take_backup, verify_backup
from hrdata.ingest.loader import RejectLimit
from hrdata.ingest.migrate import migrate
from hrdata.ingest.roots import SourceRoots
from hrdata.jobs.runner import Progress, start_job
from hrdata.settings import Settings

Outcome = tuple[str, dict[str, Any]]


def start_migration(
    conn: psycopg.Connection,
    settings: Settings,
    specs: list[str],
    table: str | None,
    limit: RejectLimit,
    request: dict[str, Any],
    roots: SourceRoots | None = None,
    *,
    force: bool = False,
) -> str:
    """Start a migration job; its progress is the bytes read per source file."""

    def work(progress: Progress) -> Outcome:
        # Resolved again as the job starts, against the same roots: what the request was
        # checked against may have changed since (a symlink replaced).
        summary = migrate(
            settings,
            specs,
            table=table,
            force=force,
            limit=limit,
            progress=progress.track,
            roots=roots,
        )
        return summary.status, summary.as_dict()

    return start_job(conn, settings, "migration", request, work)


def start_backup(
    conn: psycopg.Connection,
    settings: Settings,
    tables: list[str] | None,
    codec: str,
    request: dict[str, Any],
) -> str:
    """Start a backup job of `tables` (all when None); its progress is the rows per table."""

    def work(progress: Progress) -> Outcome:
        manifest = take_backup(settings, tables, None, codec, on_table=progress.table_done)
        return "succeeded", asdict(manifest)

    return start_job(conn, settings, "backup", request, work)


def start_verify(conn: psycopg.Connection, settings: Settings, backup_id: str) -> str:
    """Start a job that checks every file of a backup set."""

    def work(_: Progress) -> Outcome:
        return "succeeded", asdict(verify_backup(settings, backup_id))

    return start_job(conn, settings, "verify", {"backup_id": backup_id}, work)


def start_restore(conn: psycopg.Connection, settings: Settings, table: str, backup_id: str) -> str:
    """Start a job that replaces `table` with its rows in the backup, atomically."""

    def work(progress: Progress) -> Outcome:
        restored = restore(settings, [table], backup_id, on_table=progress.table_done)
        return "succeeded", asdict(restored)

    return start_job(conn, settings, "restore", {"table": table, "backup_id": backup_id}, work)
