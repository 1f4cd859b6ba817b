"""`hrdata serve`: the REST API, on the configured or the embedded database."""

from __future__ import annotations

import sys

import click

from hrdata.cli.context import settings
from hrdata.cli.output import say


@click.command()
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
        say(
            f"hrdata is serving {url} (API docs: {url}/docs, report: {url}/reports); "
            f"create a key with: {create_key}"
        )

    run_service(settings(), host, port, workers, announce)


def _invoked_as() -> str:
    """How to run hrdata as this process was run: `.venv/bin/hrdata`, `python -m hrdata`..."""
    name = click.get_current_context().find_root().info_name or "hrdata"
    first = sys.argv[0]
    return first if "/" in first and not first.endswith(".py") else name
