"""Liveness (the process answers) and readiness (the database answers)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from hrdata.api.strict_json import StrictJsonRoute

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
    try:
        with request.app.state.pool.connection(timeout=2) as conn:
            conn.execute("SELECT 1")
    except Exception:
        body = Health(status="unavailable", database="unavailable")
        return JSONResponse(body.model_dump(), status_code=503)
    return JSONResponse(Health(status="ok", database="ok").model_dump())
