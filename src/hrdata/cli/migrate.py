"""`hrdata migrate`: CSV files into PostgreSQL, with a progress bar and a summary."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table as RichTable

from hrdata.cli.context import prepare, settings
from hrdata.cli.output import cell, print_json, say, shown
from hrdata.errors import EXIT_OVER_REJECT_LIMIT


@click.command()
@click.argument("sources", nargs=-1, required=True)
@click.option("--table", "table_name", help="Table for a single file whose name does not say it.")
@click.option(
    "--force", is_flag=True, help="Let --table name another table than the file's name says."
)
@click.option(
    "--max-rejects",
    metavar="N|N%",
    help="Publish nothing from a file whose rejects exceed N rows (or N% of its rows).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of tables.")
@click.option(
    "--quiet",
    is_flag=True,
    help="Print nothing but errors and warnings (on stderr): no progress bar, no summary.",
)
def migrate(
    sources: tuple[str, ...],
    table_name: str | None,
    force: bool,
    max_rejects: str | None,
    as_json: bool,
    quiet: bool,
) -> None:
    """Load CSV files (paths, folders or s3://bucket/prefix/, plain or .gz) into PostgreSQL."""
    from hrdata.errors import RunPartlyLoaded
    from hrdata.ingest.loader import RejectLimit
    from hrdata.ingest.migrate import migrate as run_migration

    limit = RejectLimit.parse(max_rejects)
    show_progress = not quiet and not as_json and sys.stderr.isatty()
    try:
        with _progress(show_progress) as progress:
            summary = run_migration(
                settings(),
                list(sources),
                table=table_name,
                force=force,
                limit=limit,
                progress=progress,
                prepare=prepare,
            )
    except RunPartlyLoaded as partly:
        _report(partly.report, as_json, quiet)  # which files are in; the error line follows
        raise
    _report(summary.as_dict(), as_json, quiet)
    if not summary.ok:
        sys.exit(EXIT_OVER_REJECT_LIMIT)


def _report(report: dict[str, Any], as_json: bool, quiet: bool) -> None:
    if as_json:
        print_json(report)
    elif quiet:
        _print_files(report, quiet=True)
    else:
        _print_summary(report)
        _print_files(report, quiet=False)
        for note in report["notes"]:
            say(f"Note: {note}")
    for warning in report["warnings"]:
        say(f"Warning: {warning}", err=True)


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[Any], Callable[[int], None]] | None]:
    if not enabled:
        yield None
        return
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=False,
    )

    def start(source: Any) -> Callable[[int], None]:
        name = escape(shown(Path(source.name).name))
        task = bar.add_task(f"{source.table.name} ← {name}", total=source.size)
        return lambda done: bar.update(task, completed=done)

    with bar:
        yield start


def _print_summary(report: dict[str, Any]) -> None:
    console = Console()
    grid = RichTable(title=f"run {report['run_id']}: {report['status']}")
    for heading in ("table", "read", "inserted", "skipped", "rejected", "rejected by reason"):
        grid.add_column(
            heading, justify="left" if heading.startswith(("table", "rej")) else "right"
        )
    for name, entry in report["tables"].items():
        reasons = ", ".join(
            f"{code} {count}" for code, count in sorted(entry["rejected_by_reason"].items())
        )
        grid.add_row(
            cell(name),
            cell(entry["read"]),
            cell(entry["inserted"]),
            cell(entry["skipped"]),
            cell(entry["rejected"]),
            cell(reasons or "-"),
        )
    console.print(grid)


def _print_files(report: dict[str, Any], *, quiet: bool) -> None:
    """A line per file that was not loaded (on stderr when quiet, as errors are)."""
    files = [file for entry in report["tables"].values() for file in entry["files"]]
    stopped = report["status"] == "failed"  # then every file is listed: which are in, which not
    for file in files:
        if file["status"] == "loaded" and stopped and not quiet:
            say(f"{file['source']}: loaded")
        elif file["status"] == "not_started":
            say(f"{file['source']}: not started", err=quiet, fg="red")
        elif file["status"] != "loaded":
            why = f": {file['error']}" if file["error"] else ""
            message = f"{file['source']}: {file['status']}: nothing from it was kept{why}"
            say(message, err=quiet, fg="red", bold=True)
