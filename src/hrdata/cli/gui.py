"""`hrdata gui`: the desktop client, which drives the REST API."""

from __future__ import annotations

import click

from hrdata.cli.output import shown


@click.command()
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
