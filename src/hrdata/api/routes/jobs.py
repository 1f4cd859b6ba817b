"""Any background job, whatever started it: status, progress, result."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from hrdata.api.deps import NO_NUL, ConnectionDep, ReadCaller
from hrdata.api.errors import documented
from hrdata.api.strict_json import StrictJsonRoute
from hrdata.jobs import get_job
from hrdata.wire import Job

router = APIRouter(prefix="/v1/jobs", tags=["backups"], route_class=StrictJsonRoute)

JobId = Annotated[str, Path(max_length=64, pattern=NO_NUL)]


@router.get(
    "/{job_id}",
    summary="Any background job: status, progress, result",
    responses=documented(401, 403, 404, 503),
)
def job(job_id: JobId, _: ReadCaller, conn: ConnectionDep) -> Job:
    return get_job(conn, job_id)
