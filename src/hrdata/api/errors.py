"""Every error the API returns, in one shape: `{"error": {"type", "message"}, "request_id"}`.

Each error's HTTP status comes from the one table in errors.py; nothing else leaks: no SQL,
no stack trace, no secret.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from hrdata.api.logs import request_id
from hrdata.errors import (
    BadRequestBody,
    DatabaseUnavailable,
    HrdataError,
    RequestTimedOut,
    http_status,
    listed_as,
)
from hrdata.wire import ErrorDetail

log = logging.getLogger(__name__)


class ErrorResponse(BaseModel):
    """The body of every error response."""

    error: ErrorDetail
    request_id: str | None = None


def _type_name(exc: HrdataError) -> str:
    """The kind of error clients match on: its row in errors.ANSWERS, in snake case."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", listed_as(exc).__name__).lower()


def error_response(
    status: int,
    kind: str,
    message: str,
    details: list[Any] | None = None,
    retry_after: int | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {"error": {"type": kind, "message": message}}
    if details is not None:
        body["error"]["details"] = details
    body["request_id"] = request_id.get()
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return JSONResponse(body, status_code=status, headers=headers or None)


# Options a request body turns on by setting them to true, rather than by giving a value.
_SWITCHES = {"force"}


def _field(option: str) -> str:
    """An option as a request body spells it: "table", or "force": true."""
    return f'"{option}": true' if option in _SWITCHES else f'"{option}"'


def answer(exc: HrdataError) -> JSONResponse:
    """The response that is `exc`: its status and type from errors.py's table, the options
    its message names spelled as the body's fields."""
    message = exc.worded(_field)
    return error_response(http_status(exc), _type_name(exc), message, retry_after=exc.retry_after)


async def _hrdata_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HrdataError)
    return answer(exc)


async def _database_error(_: Request, exc: Exception) -> JSONResponse:
    log.warning("database unavailable", extra={"error": type(exc).__name__})
    return answer(DatabaseUnavailable("the database is unavailable; try again shortly"))


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = [
        {"location": list(e.get("loc", ())), "message": e.get("msg", "")} for e in exc.errors()
    ]
    # A body FastAPI's models refuse is a BadRequestBody in all but its type's name.
    message = "the request does not match the API"
    return error_response(http_status(BadRequestBody), "invalid_request", message, details)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 400:
        # FastAPI's answer to a body it cannot parse (JSON that is not UTF-8): like any other
        # request that is not the expected shape, a 422.
        return error_response(http_status(BadRequestBody), "invalid_request", str(exc.detail))
    kinds = {404: "not_found", 405: "method_not_allowed"}
    return error_response(
        exc.status_code, kinds.get(exc.status_code, "http_error"), str(exc.detail)
    )


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error")
    message = f"internal error; the server log has the details under request {request_id.get()}"
    return error_response(http_status(exc), "internal", message)


async def _timed_out(request: Request, exc: Exception) -> JSONResponse:
    limit = request.app.state.settings.statement_timeout_seconds
    timed_out = RequestTimedOut(
        f"the request ran longer than the {limit:g} s statement timeout "
        "(HRDATA_STATEMENT_TIMEOUT_SECONDS); nothing was written; try again"
    )
    return answer(timed_out)


def install(app: FastAPI) -> None:
    """Map every exception to the one error shape."""
    app.add_exception_handler(HrdataError, _hrdata_error)
    app.add_exception_handler(psycopg.OperationalError, _database_error)
    app.add_exception_handler(psycopg.errors.QueryCanceled, _timed_out)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the given error statuses, all in the one error shape."""
    descriptions = {
        401: "No API key, or one that is unknown or revoked",
        403: "The API key's role does not allow this",
        404: "No such table or resource",
        409: "The Idempotency-Key was used for a different request",
        413: "The body is over the configured size",
        415: "The body is not JSON or CSV",
        422: "The request is not the expected shape, or (strict mode) a row is invalid",
        429: "Too many wrong API keys from this address; see Retry-After",
        503: "The database is unavailable; see Retry-After",
    }
    # Any route that checks a key may also refuse an address that keeps presenting wrong ones.
    listed = (*statuses, 429) if 401 in statuses else statuses
    return {s: {"model": ErrorResponse, "description": descriptions[s]} for s in listed}
