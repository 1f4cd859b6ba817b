"""create_app(settings): the only place the FastAPI application is built."""

from __future__ import annotations

import logging
import re
import secrets
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import psycopg
from fastapi import FastAPI, Request, Response

from hrdata import __version__
from hrdata.api import errors
from hrdata.api.body_limit import BodyLimit
from hrdata.api.database import Database
from hrdata.api.logs import request_id
from hrdata.api.routes import (
    backups,
    health,
    home,
    jobs,
    meta,
    metrics,
    migrations,
    rejects,
    reports,
    rows,
)
from hrdata.assembly import init_schema
from hrdata.auth import Authenticator
from hrdata.db import database_url
from hrdata.errors import HrdataError, first_line, http_status
from hrdata.metrics import counts
from hrdata.settings import Settings

log = logging.getLogger("hrdata.api")

_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def create_app(settings: Settings) -> FastAPI:
    """The hrdata API on the database named by `settings` (embedded when none is)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        url = database_url(settings)
        app.state.schema_ready = _init_schema(url, settings)
        app.state.database = Database(url, settings)
        app.state.database.open()
        stop_folding = threading.Event()
        folder = threading.Thread(
            target=counts.fold_until,
            args=(
                stop_folding,
                url,
                settings.metrics_fold_seconds,
                settings.connect_timeout_seconds,
            ),
            name="hrdata-fold",
            daemon=True,
        )
        if settings.metrics_fold_seconds > 0:
            folder.start()
        try:
            yield
        finally:
            stop_folding.set()
            if folder.is_alive():
                folder.join()
            app.state.database.close()

    app = FastAPI(
        title="hrdata",
        version=__version__,
        summary="HR data into PostgreSQL: validated batches, rejects, migrations.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.authenticator = Authenticator.from_settings(settings)
    errors.install(app)
    app.add_middleware(BodyLimit, limit=settings.api_max_body_bytes)
    app.middleware("http")(_request_context)
    for module in (home, health, meta, rows, rejects, migrations, backups, jobs, metrics, reports):
        app.include_router(module.router)
    return app


def app_from_environment() -> FastAPI:
    """The app on settings read from the environment: what each `serve --workers` process runs."""
    from hrdata.api import logs
    from hrdata.settings import load_settings

    logs.configure()
    return create_app(load_settings())


def _init_schema(url: str, settings: Settings) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=settings.connect_timeout_seconds) as conn:
            init_schema(conn)
        return True
    except (psycopg.OperationalError, HrdataError) as exc:
        # Start anyway: /ready reports the database, and the schema is made on first use.
        log.warning("database not ready at startup", extra={"error": first_line(exc)})
        return False


async def _request_context(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """Give every request an id (X-Request-ID when sane), log it once it is answered."""
    given = request.headers.get("x-request-id", "")
    token = request_id.set(given if _REQUEST_ID.fullmatch(given) else secrets.token_hex(8))
    started = time.perf_counter()
    try:
        try:
            response = await call_next(request)
        except Exception as exc:
            log.exception("unexpected error")
            message = f"internal error; the server log has the details under {request_id.get()}"
            response = errors.error_response(http_status(exc), "internal", message)
        response.headers["X-Request-ID"] = request_id.get() or ""
        log.info(
            "request",
            extra={
                "method": request.method,
                "path": request.url.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            },
        )
        return response
    finally:
        request_id.reset(token)
