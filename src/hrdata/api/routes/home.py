"""The root address: a browser that opens it lands on the API's documentation."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

router = APIRouter()


@router.get("/", include_in_schema=False)
def home(request: Request) -> RedirectResponse:
    # Behind a proxy that mounts the API under a prefix, the docs are under it too.
    docs = request.scope.get("root_path", "") + (request.app.docs_url or "/docs")
    return RedirectResponse(docs, status_code=307)
