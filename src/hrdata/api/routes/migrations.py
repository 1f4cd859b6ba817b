"""Migrations started through the API, run as background jobs with progress."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, Field

from hrdata.api.deps import AdminCaller, ConnectionDep, ReadCaller, SettingsDep
from hrdata.api.errors import documented
from hrdata.api.routes.jobs import JobId
from hrdata.api.strict_json import StrictJsonRoute
from hrdata.ingest.loader import RejectLimit
from hrdata.ingest.roots import SourceRoots
from hrdata.ingest.sources import resolve
from hrdata.jobs import get_job, start_migration
from hrdata.wire import Job

router = APIRouter(prefix="/v1/migrations", tags=["migrations"], route_class=StrictJsonRoute)


class MigrationRequest(BaseModel):
    sources: list[Annotated[str, Field(min_length=1, max_length=4096)]] = Field(
        min_length=1,
        max_length=100,
        description="Files, folders or s3:// URIs, as seen by the server; each must lie under "
        "HRDATA_SOURCE_ROOTS (403 otherwise)",
        examples=[["data/challenge"]],
    )
    table: str | None = Field(default=None, max_length=100, description="Table of a single file")
    force: bool = Field(
        default=False,
        description="Load the file into `table` even though its name says another table",
    )
    max_rejects: str | None = Field(default=None, max_length=20, examples=["1%"])


@router.post(
    "",
    status_code=202,
    summary="Start a migration; poll its job for progress and the summary",
    responses=documented(401, 403, 404, 422, 503),
)
def start(
    body: MigrationRequest, _: AdminCaller, conn: ConnectionDep, settings: SettingsDep
) -> Job:
    limit = RejectLimit.parse(body.max_rejects)
    roots = SourceRoots.from_settings(settings)  # the API reads only under these (403)
    # Refuse missing paths and the like now, with a 4xx.
    resolve(body.sources, settings, body.table, roots, force=body.force)
    job_id = start_migration(
        conn,
        settings,
        body.sources,
        body.table,
        limit,
        body.model_dump(),
        roots,
        force=body.force,
    )
    return get_job(conn, job_id)


@router.get(
    "/{job_id}",
    summary="A migration job: status, progress, summary",
    responses=documented(401, 403, 404, 503),
)
def show(job_id: JobId, _: ReadCaller, conn: ConnectionDep) -> Job:
    return get_job(conn, job_id)
