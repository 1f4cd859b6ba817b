"""A migration run: resolve every source, load each file in dependency order, summarise."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from hrdata.db import connection, init_schema
from hrdata.errors import (
    DatabaseUnavailable,
    HrdataError,
    LoadFailed,
    RunPartlyLoaded,
    SourceError,
    first_line,
)
from hrdata.ids import sortable_id
from hrdata.ingest.loader import FileResult, LoadOptions, RejectLimit, load_file
from hrdata.ingest.rejects import publish_pending
from hrdata.ingest.roots import SourceRoots
from hrdata.ingest.sources import Source, resolve
from hrdata.settings import Settings

# Session advisory locks held by a live run: (this class, hashtext(run_id)).
RUN_LOCK_CLASS = 0x6872


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


ProgressFactory = Callable[[Source], Callable[[int], None]]


def migrate(
    settings: Settings,
    specs: list[str],
    *,
    table: str | None = None,
    force: bool = False,
    limit: RejectLimit | None = None,
    progress: ProgressFactory | None = None,
    roots: SourceRoots | None = None,
) -> RunSummary:
    """Load every file named by `specs`; each file is atomic, and a re-run is always safe.

    With `roots` (a migration started through the API) every file must lie under them. `table`
    names the table of a single file; `force` lets it contradict the file's name.
    """
    sources = resolve(specs, settings, table, roots, force=force)
    options = LoadOptions(
        limit=limit or RejectLimit(),
        max_line_chars=settings.max_line_bytes,
        rows_per_write=settings.copy_batch_rows,
    )
    summary = RunSummary(sortable_id(), notes=[_named_again(s) for s in sources if s.also_named])
    with connection(settings) as conn:
        where = f"{conn.info.host}:{conn.info.port}/{conn.info.dbname}"
        loading: int | None = None  # index of the source being loaded
        try:
            summary.warnings += _start(conn, settings, summary, specs)
            for loading, source in enumerate(sources):
                on_progress = progress(source) if progress else (lambda _: None)
                result = load_file(
                    conn,
                    source,
                    run_id=summary.run_id,
                    position=loading + 1,
                    options=options,
                    settings=settings,
                    progress=on_progress,
                )
                summary.files.append(result)
                if result.warning:
                    summary.warnings.append(result.warning)
            loading = None
            over = any(f.status == "over_reject_limit" for f in summary.files)
            summary.status = "over_reject_limit" if over else "succeeded"
            _finish(conn, summary, None)
        except BaseException as exc:
            # Whatever stops the run (an error, Ctrl-C), it does not stay 'running'.
            _fail(conn, summary, exc)
            if isinstance(exc, psycopg.OperationalError):
                raise DatabaseUnavailable(
                    f"lost the connection to PostgreSQL at {where}: {first_line(exc)}; "
                    "files not finished were not saved; run the migration again"
                ) from exc
            error: BaseException = exc
            if isinstance(exc, psycopg.Error):
                error = LoadFailed(f"PostgreSQL refused the load: {first_line(exc)}")
            if isinstance(error, HrdataError) and summary.files and loading is not None:
                raise _partly_loaded(summary, sources[loading:], error) from exc
            if error is not exc:
                raise error from exc
            raise
    return summary


def _start(
    conn: psycopg.Connection, settings: Settings, summary: RunSummary, specs: list[str]
) -> list[str]:
    """Record the run as running; return warnings from publishing logs left unwritten."""
    init_schema(conn)
    _mark_interrupted(conn)
    warnings = publish_pending(conn, settings)
    conn.execute("SELECT pg_advisory_lock(%s, hashtext(%s))", (RUN_LOCK_CLASS, summary.run_id))
    conn.execute(
        "INSERT INTO load_runs (run_id, status, sources) VALUES (%s, 'running', %s)",
        (summary.run_id, Jsonb(specs)),
    )
    conn.commit()
    return warnings


def _mark_interrupted(conn: psycopg.Connection) -> None:
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


def _finish(conn: psycopg.Connection, summary: RunSummary, error: str | None) -> None:
    conn.execute(
        "UPDATE load_runs SET status = %s, finished_at = now(), error = %s WHERE run_id = %s",
        (summary.status, error, summary.run_id),
    )
    conn.commit()


def _fail(conn: psycopg.Connection, summary: RunSummary, exc: BaseException) -> None:
    summary.status = "failed" if isinstance(exc, Exception) else "interrupted"
    try:
        conn.rollback()
        _finish(conn, summary, str(exc) or type(exc).__name__)
    except psycopg.Error:
        pass  # The run stays 'running' and the next run marks it interrupted.


def _partly_loaded(summary: RunSummary, left: list[Source], error: HrdataError) -> RunPartlyLoaded:
    """The error of a run that kept `summary.files` and then failed on the first of `left`."""
    failed, *after = left
    detail = error.detail if isinstance(error, SourceError) else str(error)
    position = len(summary.files) + 1
    summary.files.append(
        FileResult(failed.table.name, failed.name, position, status="failed", error=detail)
    )
    summary.files += [
        FileResult(s.table.name, s.name, position + i, status="not_started")
        for i, s in enumerate(after, start=1)
    ]
    kept = len(summary.files) - len(left)
    message = (
        f"{failed.name}: {detail}; {kept} file(s) before it are in, it and {len(after)} after it "
        "are not (the summary lists them); fix it and run the migration again"
    )
    return RunPartlyLoaded(message, summary.as_dict())


def _named_again(source: Source) -> str:
    other = [name for name in source.also_named if name != source.name]
    also = f" (also as {', '.join(other)})" if other else ""
    return f"{source.name}: named {len(source.also_named) + 1} times{also}; read once"
