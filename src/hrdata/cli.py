"""The `hrdata` command: a thin layer over the library; errors become one line and an exit code."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError
from pydantic_settings import SettingsError
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table as RichTable
from rich.text import Text

from hrdata.backup.codecs import CODECS, DEFAULT_CODEC
from hrdata.dictionary import HIRE_YEARS, control_class
from hrdata.errors import EXIT_OVER_REJECT_LIMIT, HrdataError
from hrdata.settings import Settings, load_settings

# Shown as escapes: what the dictionary calls control characters (C0, C1, line and paragraph
# separators, bidi overrides), and lone surrogates. A file or key name may hold them; a
# terminal must not obey them.
_ESCAPED = re.compile("[" + control_class() + "\ud800-\udfff]")


def shown(value: object) -> str:
    """`value` as text for a terminal, on one line: those characters as \\x1b, \\u202e..."""
    return _ESCAPED.sub(_escape, str(value))


def _escape(found: re.Match[str]) -> str:
    code = ord(found.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _say(message: str, *, err: bool = False, **style: Any) -> None:
    """Print one line for people; every human line goes through here (or _cell)."""
    click.secho(shown(message), err=err, **style)


def _cell(value: object) -> Text:
    """A table cell: escaped like _say, and never read as Rich markup ("[/]", "[link=...]")."""
    return Text(shown(value))


class _Failed(click.ClickException):
    """An HrdataError shown as one `Error: ...` line, with the error's own exit code."""

    def __init__(self, error: HrdataError) -> None:
        super().__init__(shown(error))
        self.exit_code = error.exit_code  # type: ignore[misc]  # click reads it per instance


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except HrdataError as exc:
            raise _Failed(exc) from exc


@click.group(cls=_Group)
@click.version_option(package_name="hrdata")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """hrdata: HR data from CSV (local or S3) into PostgreSQL, every row validated."""
    try:
        ctx.obj = load_settings()
    except ValidationError as exc:
        raise click.ClickException(f"invalid settings: {exc}") from exc
    except SettingsError as exc:
        # Most often a secret file this user may not read; the cause names the file.
        cause = f": {exc.__cause__}" if exc.__cause__ else ""
        raise click.ClickException(shown(f"cannot read settings: {exc}{cause}")) from exc


def _settings() -> Settings:
    settings: Settings = click.get_current_context().find_root().obj
    return settings


@cli.command("init-db")
def init_db() -> None:
    """Create or upgrade the database schema (every command also does this)."""
    from hrdata.assembly import init_schema
    from hrdata.db import connection

    with connection(_settings()) as conn:
        init_schema(conn)
    _say("schema is up to date")


@cli.command()
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

    settings = _settings()
    limit = RejectLimit.parse(max_rejects)
    show_progress = not quiet and not as_json and sys.stderr.isatty()
    try:
        with _progress(show_progress) as progress:
            summary = run_migration(
                settings,
                list(sources),
                table=table_name,
                force=force,
                limit=limit,
                progress=progress,
            )
    except RunPartlyLoaded as partly:
        _report(partly.report, as_json, quiet)  # which files are in; the error line follows
        raise
    _report(summary.as_dict(), as_json, quiet)
    if not summary.ok:
        sys.exit(EXIT_OVER_REJECT_LIMIT)


def _report(report: dict[str, Any], as_json: bool, quiet: bool) -> None:
    if as_json:
        click.echo(json.dumps(report))
    elif quiet:
        _print_files(report, quiet=True)
    else:
        _print_summary(report)
        _print_files(report, quiet=False)
        for note in report["notes"]:
            _say(f"Note: {note}")
    for warning in report["warnings"]:
        _say(f"Warning: {warning}", err=True)


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
            _cell(name),
            _cell(entry["read"]),
            _cell(entry["inserted"]),
            _cell(entry["skipped"]),
            _cell(entry["rejected"]),
            _cell(reasons or "-"),
        )
    console.print(grid)


def _print_files(report: dict[str, Any], *, quiet: bool) -> None:
    """A line per file that was not loaded (on stderr when quiet, as errors are)."""
    files = [file for entry in report["tables"].values() for file in entry["files"]]
    stopped = report["status"] == "failed"  # then every file is listed: which are in, which not
    for file in files:
        if file["status"] == "loaded" and stopped and not quiet:
            _say(f"{file['source']}: loaded")
        elif file["status"] == "not_started":
            _say(f"{file['source']}: not started", err=quiet, fg="red")
        elif file["status"] != "loaded":
            why = f": {file['error']}" if file["error"] else ""
            message = f"{file['source']}: {file['status']}: nothing from it was kept{why}"
            _say(message, err=quiet, fg="red", bold=True)


@cli.command()
@click.option("--check", type=click.Path(path_type=Path), help="Fail if this file is not current.")
def dictionary(check: Path | None) -> None:
    """Print the data dictionary as Markdown (docs/dictionary.md is generated by this)."""
    from hrdata.folders import read_text
    from hrdata.schema import dictionary_markdown

    text = dictionary_markdown()
    if check is not None:
        if not check.exists() or read_text(check) != text:
            raise click.ClickException(
                shown(f"{check} is out of date: run `hrdata dictionary > {check}`")
            )
        return
    click.echo(text, nl=False)


@cli.group()
def db() -> None:
    """The embedded PostgreSQL server."""


@db.command("url")
def db_url() -> None:
    """Print the URL of the database in use (starting the embedded server if needed)."""
    from hrdata.db import database_url

    _say(database_url(_settings()))


@db.command("stop")
def db_stop() -> None:
    """Stop the embedded server started under HRDATA_HOME."""
    from hrdata.db import stop_embedded

    stopped = stop_embedded(_settings().home)
    _say("embedded server stopped" if stopped else "no embedded server was running")


@cli.group()
def keys() -> None:
    """API keys for the REST API: create, list, revoke."""


@keys.command("create")
@click.option(
    "--role",
    required=True,
    metavar="ingest|read|admin",
    help="What the key may do: load batches, read data, or everything (admin).",
)
@click.option("--name", default="", help="Who or what holds the key, as `keys list` shows it.")
@click.option("--json", "as_json", is_flag=True, help="Print key_id, name, role and token as JSON.")
def keys_create(role: str, name: str, as_json: bool) -> None:
    """Create an API key and print its token once.

    Only a hash of the token's secret is stored, so it cannot be shown again.
    """
    from hrdata.assembly import init_schema
    from hrdata.auth import create_key
    from hrdata.db import connection

    with connection(_settings()) as conn:
        init_schema(conn)
        caller, token = create_key(conn, role, name)
    if as_json:
        click.echo(
            json.dumps(
                {"key_id": caller.key_id, "name": caller.name, "role": caller.role, "token": token}
            )
        )
    else:
        click.echo(token)
    _say(
        f"API key {caller.key_id} ({caller.role}) created; its token will not be shown again",
        err=True,
    )


@keys.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array instead of a table.")
def keys_list(as_json: bool) -> None:
    """List API keys, never their tokens.

    Shows each key's id, name, role, and when it was created and revoked.
    """
    from datetime import UTC

    from hrdata.assembly import init_schema
    from hrdata.auth import list_keys
    from hrdata.db import connection

    with connection(_settings()) as conn:
        init_schema(conn)
        rows = list_keys(conn)
    if as_json:
        for row in rows:
            for moment in ("created_at", "revoked_at"):
                row[moment] = row[moment].isoformat() if row[moment] else None
        click.echo(json.dumps(rows))
        return
    if not rows:
        _say("no API keys yet; create one with `hrdata keys create --role ROLE`")
        return
    grid = RichTable(title="API keys")
    for heading in ("key id", "name", "role", "created (UTC)", "revoked (UTC)"):
        grid.add_column(heading, no_wrap=heading != "name")
    for row in rows:
        created, revoked = (
            f"{row[moment].astimezone(UTC):%Y-%m-%d %H:%M}" if row[moment] else "-"
            for moment in ("created_at", "revoked_at")
        )
        cells = (row["key_id"], row["name"] or "-", row["role"], created, revoked)
        grid.add_row(*map(_cell, cells))
    Console().print(grid)


@keys.command("revoke")
@click.argument("key_id")
def keys_revoke(key_id: str) -> None:
    """Revoke an API key from now on.

    Every request made with it is refused from the next one, by every server process.
    """
    from hrdata.assembly import init_schema
    from hrdata.auth import revoke_key
    from hrdata.db import connection
    from hrdata.errors import NotFound

    with connection(_settings()) as conn:
        init_schema(conn)
        revoked = revoke_key(conn, key_id)
    if not revoked:
        raise NotFound(f"no active API key {key_id!r} (see `hrdata keys list`)")
    _say(f"API key {key_id} revoked")


@cli.group(invoke_without_command=True)
@click.option("--tables", help="Comma-separated tables (default: all).")
@click.option(
    "--to", "destination", help="A folder or s3://bucket/prefix (default HRDATA_BACKUP_URI)."
)
@click.option(
    "--codec",
    type=click.Choice(CODECS),
    default=DEFAULT_CODEC,
    show_default=True,
    help="AVRO block compression.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as JSON.")
@click.pass_context
def backup(
    ctx: click.Context, tables: str | None, destination: str | None, codec: str, as_json: bool
) -> None:
    """Write every table (or --tables) as AVRO from one snapshot, plus a manifest."""
    if ctx.invoked_subcommand is not None:
        return
    from hrdata.backup.sets import take_backup

    names = [t.strip() for t in tables.split(",") if t.strip()] if tables else None
    manifest = take_backup(_settings(), names, destination, codec)
    if as_json:
        click.echo(manifest.to_json())
        return
    rows = ", ".join(f"{name} {entry.rows}" for name, entry in manifest.tables.items())
    _say(f"backup {manifest.backup_id}: {rows}")


@backup.command("verify")
@click.argument("backup_id")
@click.option(
    "--from", "location", help="A folder or s3://bucket/prefix (default HRDATA_BACKUP_URI)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the verified manifest as JSON.")
def backup_verify(backup_id: str, location: str | None, as_json: bool) -> None:
    """Read every file of a backup and check checksums, row counts and schemas."""
    from hrdata.backup.sets import verify_backup

    manifest = verify_backup(_settings(), backup_id, location)
    if as_json:
        click.echo(manifest.to_json())
    else:
        _say(f"backup {backup_id} is intact")


@cli.group()
def backups() -> None:
    """List and prune backup sets."""


@backups.command("list")
@click.option(
    "--from", "location", help="A folder or s3://bucket/prefix (default HRDATA_BACKUP_URI)."
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
def backups_list(location: str | None, as_json: bool) -> None:
    """Every complete backup set, oldest first; one whose manifest cannot be read is shown
    as broken, with why."""
    from hrdata.backup.sets import BrokenSet, list_backups, listed

    found = list_backups(_settings(), location)
    if as_json:
        click.echo(json.dumps([listed(entry) for entry in found]))
        return
    rows: list[tuple[object, ...]] = [
        (m.backup_id, "broken (see below)", "-", "-", "-")
        if isinstance(m, BrokenSet)
        else (
            m.backup_id,
            _utc(m.created_at),
            ", ".join(m.tables),
            sum(t.rows for t in m.tables.values()),
            sum(t.bytes for t in m.tables.values()),
        )
        for m in found
    ]
    console = Console()
    grid = _fitting_table(console, ("backup", "taken at (UTC)", "tables", "rows", "bytes"), rows)
    if grid is None:  # too narrow even for the ids alone: those, whole, one a line
        for m in found:
            _say(m.backup_id)
    else:
        for row, m in zip(grid.rows, found, strict=True):
            row.style = "red" if isinstance(m, BrokenSet) else None
        console.print(grid)
    for m in found:
        if isinstance(m, BrokenSet):
            _say(f"broken: {m.problem}")  # whole, never wrapped


def _utc(moment: str) -> str:
    """An ISO time as `2026-12-03 11:47:51`, in UTC: short enough to stay on one line."""
    from datetime import UTC, datetime

    return f"{datetime.fromisoformat(moment).astimezone(UTC):%Y-%m-%d %H:%M:%S}"


def _fitting_table(
    console: Console, headings: tuple[str, ...], rows: list[tuple[object, ...]]
) -> RichTable | None:
    """A table of `rows` that cuts no word, its last columns left out until it fits the
    terminal (the first is always kept); None if even the first alone does not fit."""
    from rich.measure import Measurement

    unbounded = console.options.update_width(1 << 16)  # a measure the terminal does not clamp
    lines = [[_cell(heading) for heading in headings], *([_cell(v) for v in r] for r in rows)]
    sizes = [
        [Measurement.get(console, unbounded, line[i]) for line in lines]
        for i in range(len(headings))
    ]
    # No column narrower than its longest word (an id is one), so none is cut or split; Rich's
    # own shrinking ignores that, hence widths fixed here.
    narrowest = [max(size.minimum for size in column) for column in sizes]
    widest = [max(size.maximum for size in column) for column in sizes]
    for kept in range(len(headings), 0, -1):
        spare = console.width - (3 * kept + 1) - sum(narrowest[:kept])  # borders, padding
        if spare < 0:
            continue
        grid = RichTable()
        for heading, least, most in zip(headings[:kept], narrowest, widest, strict=False):
            grown = min(most, least + spare)  # the first columns first get what they could use
            spare -= grown - least
            grid.add_column(heading, width=grown)
        for row in rows:
            grid.add_row(*map(_cell, row[:kept]))
        return grid
    return None


@backups.command("prune")
@click.option("--keep", type=int, required=True, help="How many of the newest sets to keep.")
@click.option(
    "--from", "location", help="A folder or s3://bucket/prefix (default HRDATA_BACKUP_URI)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the deleted ids as JSON.")
def backups_prune(keep: int, location: str | None, as_json: bool) -> None:
    """Delete all but the newest --keep backup sets."""
    from hrdata.backup.sets import prune_backups

    deleted = prune_backups(_settings(), keep, location)
    if as_json:
        click.echo(json.dumps(deleted))
    else:
        _say(f"deleted {len(deleted)} backup set(s)")


@cli.command()
@click.argument("table_name", required=False)
@click.option("--all", "every", is_flag=True, help="Restore every table of the set.")
@click.option("--backup", "backup_id", help="The backup id (default: the latest).")
@click.option(
    "--from", "location", help="A folder or s3://bucket/prefix (default HRDATA_BACKUP_URI)."
)
@click.option("--json", "as_json", is_flag=True, help="Print what was restored as JSON.")
@click.option(
    "--yes", is_flag=True, help="Do not ask first (it never asks when stdin is not a terminal)."
)
def restore(
    table_name: str | None,
    every: bool,
    backup_id: str | None,
    location: str | None,
    as_json: bool,
    yes: bool,
) -> None:
    """Replace a table (or --all) with its rows in a backup, atomically.

    On a terminal it first asks, naming the tables and the backup; answering no exits 1.
    """
    from hrdata.backup.manifest import Manifest
    from hrdata.backup.restore import restore as run_restore
    from hrdata.errors import InvalidArgument

    if every == bool(table_name):
        raise InvalidArgument("name one table, or pass --all")

    def confirm(manifest: Manifest, tables: list[str]) -> None:
        if yes or not sys.stdin.isatty():  # a script, a pipe, cron: nobody to answer
            return
        replaced = ", ".join(f"{t} ({_rows(manifest.tables[t].rows)})" for t in tables)
        question = f"Restore {replaced} from backup {manifest.backup_id}, replacing what is there?"
        if not click.confirm(shown(question), default=False, err=True):
            _say("Aborted: nothing was restored", err=True)
            raise click.exceptions.Exit(1)

    result = run_restore(
        _settings(),
        [table_name] if table_name else None,
        backup_id,
        location,
        before_change=confirm,
    )
    if as_json:
        click.echo(json.dumps({"backup_id": result.backup_id, "rows": result.rows}))
        return
    rows = ", ".join(f"{name} {count}" for name, count in result.rows.items())
    _say(f"restored from {result.backup_id}: {rows}")


def _rows(count: int) -> str:
    return f"{count} row" if count == 1 else f"{count} rows"


@cli.command()
@click.option("--year", default=2021, show_default=True, type=click.IntRange(*HIRE_YEARS))
@click.option(
    "--mean-over",
    type=click.Choice(["all", "hiring"]),
    default="all",
    show_default=True,
    help="all: every department (0 for none hired); hiring: those that hired in the year.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["html", "pdf"]),
    help="Default: from --out's suffix, else html.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write it (default: report.html or report.pdf).",
)
def report(year: int, mean_over: str, fmt: str | None, out: Path | None) -> None:
    """Write the hiring metrics report: one self-contained HTML file with charts, or a PDF."""
    from hrdata.assembly import init_schema
    from hrdata.db import connection
    from hrdata.folders import write_file
    from hrdata.metrics.report import build_report, render_html, render_pdf

    fmt = fmt or ("pdf" if out is not None and out.suffix.lower() == ".pdf" else "html")
    out = out or Path(f"report.{fmt}")
    with connection(_settings()) as conn:
        init_schema(conn)
        built = build_report(conn, year, "hiring" if mean_over == "hiring" else "all")
    write_file(out, render_pdf(built) if fmt == "pdf" else render_html(built).encode())
    _say(f"report for {year} written to {out}")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="API processes; they share everything through PostgreSQL.",
)
def serve(host: str, port: int, workers: int) -> None:
    """Run the REST API (OpenAPI docs at /docs) on the configured or embedded database.

    On the embedded database, stopping the service (Ctrl-C) stops that database too.
    """
    from hrdata.api import logs
    from hrdata.api.server import serve as run_service

    logs.configure()
    create_key = f"{_invoked_as()} keys create --role admin --name me"

    def announce(url: str) -> None:
        # The one line for people (the logs are JSON on stderr).
        _say(
            f"hrdata is serving {url} (API docs: {url}/docs, report: {url}/reports); "
            f"create a key with: {create_key}"
        )

    run_service(_settings(), host, port, workers, announce)


def _invoked_as() -> str:
    """How to run hrdata as this process was run: `.venv/bin/hrdata`, `python -m hrdata`..."""
    name = click.get_current_context().find_root().info_name or "hrdata"
    first = sys.argv[0]
    return first if "/" in first and not first.endswith(".py") else name


@cli.command()
@click.option(
    "--url",
    metavar="URL",
    help="The API's address (default: the remembered one, else http://127.0.0.1:8000).",
)
@click.option(
    "--key",
    metavar="KEY",
    envvar="HRDATA_API_KEY",
    help="An API key (default: $HRDATA_API_KEY, else the remembered one, else typed in).",
)
def gui(url: str | None, key: str | None) -> None:
    """Open the desktop client: migrate, upload, back up and restore, and see the metrics,
    all through the API."""
    # Tk is imported here only, so every other command works without a display.
    from hrdata.gui.app import run
    from hrdata.gui.client import ClientError

    try:
        run(url, key)
    except ClientError as exc:
        raise click.ClickException(shown(exc.message)) from exc


def main() -> None:
    """Entry point of the `hrdata` console script."""
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    cli()
