"""Every JSON body the API reads is decoded as strict JSON (RFC 8259), by one decoder.

FastAPI decodes bodies with `json.loads`, which takes NaN and Infinity and guesses UTF-16; a
route class swaps in hrdata's decoder (FastAPI's documented custom APIRoute pattern).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from hrdata.errors import HrdataError
from hrdata.ingest import jsonbody


class _StrictJsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = jsonbody.loads(await self.body(), keys_once=True)
        return self._json


class StrictJsonRoute(APIRoute):
    """A route whose JSON body is decoded by `jsonbody.loads`, and whose body errors keep
    their own status (422, 413) instead of FastAPI's 400."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict(request: Request) -> Response:
            try:
                return await handler(_StrictJsonRequest(request.scope, request.receive))
            except HTTPException as exc:
                # FastAPI turns any failure while reading a body into a bare 400; ours (not
                # JSON, over the size limit...) says what is wrong, with its own status.
                if isinstance(exc.__cause__, HrdataError):
                    raise exc.__cause__ from None
                raise

        return strict
