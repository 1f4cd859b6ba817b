"""`hrdata restore`: tables replaced by their rows in a backup, after asking on a terminal."""

from __future__ import annotations

import sys

import click

from hrdata.cli.backups import read_from
from hrdata.cli.context import prepare, settings
from hrdata.cli.output import print_json, say, shown


@click.command()
@click.argument("table_name", required=False)
@click.option("--all", "every", is_flag=True, help="Restore every table of the set.")
@click.option("--backup", "backup_id", help="The backup id (default: the latest).")
@read_from
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
            say("Aborted: nothing was restored", err=True)
            raise click.exceptions.Exit(1)

    result = run_restore(
        settings(),
        [table_name] if table_name else None,
        backup_id,
        location,
        before_change=confirm,
        prepare=prepare,
    )
    if as_json:
        print_json({"backup_id": result.backup_id, "rows": result.rows})
        return
    rows = ", ".join(f"{name} {count}" for name, count in result.rows.items())
    say(f"restored from {result.backup_id}: {rows}")


def _rows(count: int) -> str:
    return f"{count} row" if count == 1 else f"{count} rows"
