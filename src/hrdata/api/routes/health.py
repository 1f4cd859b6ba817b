"""Liveness (the process answers) and readiness (the database answers)."""

from __future__ import annotations

from typing import Literal

import psycopg
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from hrdata.api.database import Database
from hrdata.api.strict_json import StrictJsonRoute
from hrdata.errors import DatabaseUnavailable

router = APIRouter(tags=["health"], route_class=StrictJsonRoute)


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    database: Literal["ok", "unavailable"] | None = None


@router.get("/health", summary="The process is up", response_model_exclude_none=True)
def health() -> Health:
    return Health(status="ok")


@router.get(
    "/ready",
    summary="The database answers",
    responses={503: {"model": Health, "description": "The database does not answer"}},
)
def ready(request: Request) -> JSONResponse:
    database: Database = request.app.state.database
    try:
        with database.connection(timeout=2) as conn:
            conn.execute("SELECT 1")
    except (DatabaseUnavailable, psycopg.Error):
        body = Health(status="unavailable", database="unavailable")
        headers = {"Retry-After": str(DatabaseUnavailable.retry_after)}
        return JSONResponse(body.model_dump(), status_code=503, headers=headers)
    return JSONResponse(Health(status="ok", database="ok").model_dump())
