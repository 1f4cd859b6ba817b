"""`hrdata keys`: API keys created, listed and revoked."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table as RichTable

from hrdata.cli.context import database
from hrdata.cli.output import cell, print_json, say


@click.group()
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
    from hrdata.auth import create_key

    with database() as conn:
        caller, token = create_key(conn, role, name)
    if as_json:
        print_json(
            {"key_id": caller.key_id, "name": caller.name, "role": caller.role, "token": token}
        )
    else:
        click.echo(token)
    say(
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

    from hrdata.auth import list_keys

    with database() as conn:
        rows = list_keys(conn)
    if as_json:
        for row in rows:
            for moment in ("created_at", "revoked_at"):
                row[moment] = row[moment].isoformat() if row[moment] else None
        print_json(rows)
        return
    if not rows:
        say("no API keys yet; create one with `hrdata keys create --role ROLE`")
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
        grid.add_row(*map(cell, cells))
    Console().print(grid)


@keys.command("revoke")
@click.argument("key_id")
def keys_revoke(key_id: str) -> None:
    """Revoke an API key from now on.

    Every request made with it is refused from the next one, by every server process.
    """
    from hrdata.auth import revoke_key
    from hrdata.errors import NotFound

    with database() as conn:
        revoked = revoke_key(conn, key_id)
    if not revoked:
        raise NotFound(f"no active API key {key_id!r} (see `hrdata keys list`)")
    say(f"API key {key_id} revoked")
