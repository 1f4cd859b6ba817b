"""`hrdata init-db` and `hrdata db`: the schema, and the embedded PostgreSQL server."""

from __future__ import annotations

import click

from hrdata.cli.context import database, settings
from hrdata.cli.output import say


@click.command("init-db")
def init_db() -> None:
    """Create or upgrade the database schema (every command also does this)."""
    with database():
        pass  # opening it is what brings the schema up to date
    say("schema is up to date")


@click.group()
def db() -> None:
    """The embedded PostgreSQL server."""


@db.command("url")
def db_url() -> None:
    """Print the URL of the database in use (starting the embedded server if needed)."""
    from hrdata.db import database_url

    say(database_url(settings()))


@db.command("stop")
def db_stop() -> None:
    """Stop the embedded server started under HRDATA_HOME."""
    from hrdata.db import stop_embedded

    stopped = stop_embedded(settings().home)
    say("embedded server stopped" if stopped else "no embedded server was running")
