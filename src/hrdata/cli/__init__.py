"""The `hrdata` command: a thin layer over the library; errors become one line and an exit code.

One module per command group; `context` gives each its settings and database, `output` its lines.
"""

from __future__ import annotations

import logging

import click
from pydantic import ValidationError
from pydantic_settings import SettingsError

from hrdata.cli import backups, database, dictionary, gui, keys, migrate, report, restore, serve
from hrdata.cli.context import Group
from hrdata.cli.output import shown
from hrdata.settings import load_settings

__all__ = ["cli", "main"]


@click.group(cls=Group)
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


for command in (
    database.init_db,
    database.db,
    migrate.migrate,
    dictionary.dictionary,
    keys.keys,
    backups.backup,
    backups.backups,
    restore.restore,
    report.report,
    serve.serve,
    gui.gui,
):
    cli.add_command(command)


def main() -> None:
    """Entry point of the `hrdata` console script."""
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    cli()
