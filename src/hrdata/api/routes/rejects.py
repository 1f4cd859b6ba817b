"""Rejected rows, from migrations and API requests, filtered and paged."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from psycopg import sql
from pydantic import BaseModel

from hrdata.api.deps import NO_NUL, ConnectionDep, ReadCaller
from hrdata.api.errors import documented
from hrdata.api.strict_json import StrictJsonRoute
from hrdata.dictionary import table as table_named

router = APIRouter(prefix="/v1", tags=["rejects"], route_class=StrictJsonRoute)


class RejectOut(BaseModel):
    id: int
    run_id: str
    table: str
    source: str
    line: int | None
    raw: Any
    reasons: list[dict[str, Any]]
    rejected_at: datetime


class RejectsPage(BaseModel):
    """Rejects in the order they were logged; pass `next_after` as `after` for the next page."""

    rejects: list[RejectOut]
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
    conditions: list[sql.Composable] = [sql.SQL("id > %s")]
    params: list[Any] = [after]
    if table is not None:
        conditions.append(sql.SQL("table_name = %s"))
        params.append(table_named(table).name)
    for column, value in (("source", source), ("run_id", run_id)):
        if value is not None:
            conditions.append(sql.SQL("{} = %s").format(sql.Identifier(column)))
            params.append(value)
    query = sql.SQL(
        "SELECT id, run_id, table_name, source, line, raw, reasons, rejected_at "
        "FROM rejected_rows WHERE {} ORDER BY id LIMIT %s"
    ).format(sql.SQL(" AND ").join(conditions))
    rows = conn.execute(query, (*params, limit)).fetchall()
    rejects = [
        RejectOut(
            id=r[0],
            run_id=r[1],
            table=r[2],
            source=r[3],
            line=r[4],
            raw=r[5],
            reasons=r[6],
            rejected_at=r[7],
        )
        for r in rows
    ]
    return RejectsPage(
        rejects=rejects, next_after=rejects[-1].id if len(rejects) == limit else None
    )
