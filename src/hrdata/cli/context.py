"""What every command gets from the root: its settings, its database, and its errors shown as
one `Error: ...` line with the error's exit code."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from hrdata.cli.output import shown
from hrdata.errors import HrdataError, exit_code
from hrdata.settings import Settings

if TYPE_CHECKING:  # psycopg is imported only by the commands that open a connection
    import psycopg


def settings() -> Settings:
    """The settings the root command read for this invocation."""
    found: Settings = click.get_current_context().find_root().obj
    return found


def prepare(conn: psycopg.Connection) -> None:
    """Make the schema current on `conn`: what a command does to every connection it opens,
    or hands to the library (migrate, backup and restore open their own)."""
    from hrdata.assembly import init_schema

    init_schema(conn)


@contextmanager
def database() -> Iterator[psycopg.Connection]:
    """A connection to the database in use, its schema made current: every command's way in."""
    from hrdata.db import connection

    with connection(settings()) as conn:
        prepare(conn)
        yield conn


def _flag(option: str) -> str:
    """An option as the command line spells it: `max_rejects` is --max-rejects."""
    return "--" + option.replace("_", "-")


class Failed(click.ClickException):
    """An HrdataError shown as one `Error: ...` line, options named as flags, with the error's
    exit code."""

    def __init__(self, error: HrdataError) -> None:
        super().__init__(shown(error.worded(_flag)))
        self.exit_code = exit_code(error)  # type: ignore[misc]  # click reads it per instance


class Group(click.Group):
    """A command group under which every HrdataError ends as a Failed."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except HrdataError as exc:
            raise Failed(exc) from exc
