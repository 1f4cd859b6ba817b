"""`hrdata backup` and `hrdata backups`: sets taken, verified, listed and pruned."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table as RichTable

from hrdata.backup.codecs import CODECS, DEFAULT_CODEC
from hrdata.cli.context import prepare, settings
from hrdata.cli.output import cell, print_json, say

# Where backup sets are read, for every command that reads them (restore too).
read_from = click.option(
    "--from", "location", help="A folder or s3://bucket/prefix (default HRDATA_BACKUP_URI)."
)


@click.group(invoke_without_command=True)
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
    manifest = take_backup(settings(), names, destination, codec, prepare=prepare)
    if as_json:
        click.echo(manifest.to_json())
        return
    rows = ", ".join(f"{name} {entry.rows}" for name, entry in manifest.tables.items())
    say(f"backup {manifest.backup_id}: {rows}")


@backup.command("verify")
@click.argument("backup_id")
@read_from
@click.option("--json", "as_json", is_flag=True, help="Print the verified manifest as JSON.")
def backup_verify(backup_id: str, location: str | None, as_json: bool) -> None:
    """Read every file of a backup and check checksums, row counts and schemas."""
    from hrdata.backup.sets import verify_backup

    manifest = verify_backup(settings(), backup_id, location)
    if as_json:
        click.echo(manifest.to_json())
    else:
        say(f"backup {backup_id} is intact")


@click.group()
def backups() -> None:
    """List and prune backup sets."""


@backups.command("list")
@read_from
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
def backups_list(location: str | None, as_json: bool) -> None:
    """Every complete backup set, oldest first; one whose manifest cannot be read is shown
    as broken, with why."""
    from hrdata.backup.sets import BrokenSet, list_backups, listed

    found = list_backups(settings(), location)
    if as_json:
        print_json([listed(entry) for entry in found])
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
            say(m.backup_id)
    else:
        for row, m in zip(grid.rows, found, strict=True):
            row.style = "red" if isinstance(m, BrokenSet) else None
        console.print(grid)
    for m in found:
        if isinstance(m, BrokenSet):
            say(f"broken: {m.problem}")  # whole, never wrapped


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
    lines = [[cell(heading) for heading in headings], *([cell(v) for v in r] for r in rows)]
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
            grid.add_row(*map(cell, row[:kept]))
        return grid
    return None


@backups.command("prune")
@click.option("--keep", type=int, required=True, help="How many of the newest sets to keep.")
@read_from
@click.option("--json", "as_json", is_flag=True, help="Print the deleted ids as JSON.")
def backups_prune(keep: int, location: str | None, as_json: bool) -> None:
    """Delete all but the newest --keep backup sets."""
    from hrdata.backup.sets import prune_backups

    deleted = prune_backups(settings(), keep, location)
    if as_json:
        print_json(deleted)
    else:
        say(f"deleted {len(deleted)} backup set(s)")
