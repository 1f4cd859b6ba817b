"""Rejected rows, from migrations and API requests, filtered and paged."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from hrdata.api.deps import NO_NUL, ConnectionDep, ReadCaller
from hrdata.api.errors import documented
from hrdata.api.strict_json import StrictJsonRoute
from hrdata.dictionary import table as table_named
from hrdata.ingest.rejects import StoredReject, find_rejects

router = APIRouter(prefix="/v1", tags=["rejects"], route_class=StrictJsonRoute)


class RejectsPage(BaseModel):
    """Rejects in the order they were logged; pass `next_after` as `after` for the next page."""

    rejects: list[StoredReject]
    next_after: int | None


@router.get(
    "/rejects", summary="Rejected rows, newest last", responses=documented(401, 403, 404, 503)
)
def list_rejects(
    _: ReadCaller,
    conn: ConnectionDep,
    table: Annotated[str | None, Query(max_length=100)] = None,
    source: Annotated[str | None, Query(max_length=2000, pattern=NO_NUL)] = None,
    run_id: Annotated[
        str | None,
        Query(max_length=100, pattern=NO_NUL, description="A migration run or API request id"),
    ] = None,
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> RejectsPage:
    rejects = find_rejects(
        conn,
        after=after,
        limit=limit,
        table=None if table is None else table_named(table).name,
        source=source,
        run_id=run_id,
    )
    return RejectsPage(
        rejects=rejects, next_after=rejects[-1].id if len(rejects) == limit else None
    )
