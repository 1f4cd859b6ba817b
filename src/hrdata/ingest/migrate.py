"""A migration run: resolve every source, load each file in dependency order, summarise."""

from __future__ import annotations

from collections.abc import Callable

import psycopg

from hrdata.db import Prepare, connection
from hrdata.errors import (
    DatabaseUnavailable,
    HrdataError,
    LoadFailed,
    RunPartlyLoaded,
    SourceError,
    first_line,
)
from hrdata.ids import sortable_id
from hrdata.ingest.loader import LoadOptions, RejectLimit, load_file
from hrdata.ingest.roots import SourceRoots
from hrdata.ingest.runs import (
    FileResult,
    RunSummary,
    finish_run,
    mark_interrupted,
    publish_pending,
    start_run,
)
from hrdata.ingest.sources import Source, resolve
from hrdata.settings import Settings

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
    prepare: Prepare | None = None,
) -> RunSummary:
    """Load every file named by `specs`; each file is atomic, and a re-run is always safe.

        With `roots` (a migration started through the API) every file must lie under them. `table`
        names the table of a single file; `force` lets it contradict the file's name. `prepare` runs
    on the run's connection before anything else (the CLI makes the schema with it).
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
            if prepare is not None:
                prepare(conn)
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
            finish_run(conn, summary, None)
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
    mark_interrupted(conn)
    warnings = publish_pending(conn, settings)
    start_run(conn, summary.run_id, specs)
    conn.commit()
    return warnings


def _fail(conn: psycopg.Connection, summary: RunSummary, exc: BaseException) -> None:
    summary.status = "failed" if isinstance(exc, Exception) else "interrupted"
    try:
        conn.rollback()
        finish_run(conn, summary, str(exc) or type(exc).__name__)
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
