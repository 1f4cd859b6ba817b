"""Dependencies of the routes, each named once: settings, a database connection, the caller."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

import psycopg
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hrdata.api.database import Database
from hrdata.assembly import init_schema
from hrdata.auth import Authenticator, Caller, require
from hrdata.settings import Settings


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_connection(request: Request) -> Iterator[psycopg.Connection]:
    """A pooled connection; the schema is created on first use if startup could not.

    Raises DatabaseUnavailable (503) when none comes in time, at once while the database is down.
    """
    database: Database = request.app.state.database
    with database.connection() as conn:
        if not request.app.state.schema_ready:
            init_schema(conn)
            request.app.state.schema_ready = True
        yield conn


# PostgreSQL text cannot hold NUL: a parameter that reaches a query is refused (422) with one.
NO_NUL = r"^[^\x00]*$"

SettingsDep = Annotated[Settings, Depends(get_settings)]
ConnectionDep = Annotated[psycopg.Connection, Depends(get_connection)]

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer hrd_...`")


def check_key(request: Request, conn: psycopg.Connection, token: str | None) -> Caller:
    """The Caller `token` stands for, through this app's Authenticator and the client's address.

    Raises NotAuthenticated, or TooManyFailures while the address fails too often.
    """
    authenticator: Authenticator = request.app.state.authenticator
    # The peer's address: behind a proxy, the proxy's, unless uvicorn is told to trust it.
    address = request.client.host if request.client else "unknown"
    return authenticator.authenticate(conn, token, address)


def get_caller(
    request: Request,
    conn: ConnectionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    return check_key(request, conn, credentials.credentials if credentials else None)


def needs(role: str) -> Callable[[Caller], Caller]:
    """A dependency that admits callers whose key has `role` (or admin)."""

    def check(caller: Annotated[Caller, Depends(get_caller)]) -> Caller:
        require(caller, role)
        return caller

    return check


IngestCaller = Annotated[Caller, Depends(needs("ingest"))]
ReadCaller = Annotated[Caller, Depends(needs("read"))]
AdminCaller = Annotated[Caller, Depends(needs("admin"))]
