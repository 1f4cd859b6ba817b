"""Backups and restores through the API (admin), run as background jobs like migrations."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from hrdata import jobs
from hrdata.api.deps import AdminCaller, ConnectionDep, ReadCaller, SettingsDep
from hrdata.api.errors import documented
from hrdata.api.routes.rows import TablePath
from hrdata.api.strict_json import StrictJsonRoute
from hrdata.backup.codecs import Codec
from hrdata.backup.ids import BACKUP_ID_PATTERN, checked_backup_id
from hrdata.backup.sets import (
    latest_backup,
    list_backups,
    listed,
    read_manifest,
    tables_named,
)
from hrdata.dictionary import table as table_named
from hrdata.errors import InvalidArgument
from hrdata.storage import storage_for
from hrdata.wire import BackupOut, Job, ListedBackupOut

router = APIRouter(tags=["backups"], route_class=StrictJsonRoute)

BackupId = Annotated[str, Path(max_length=40, pattern=BACKUP_ID_PATTERN)]


class BackupRequest(BaseModel):
    tables: list[Annotated[str, Field(max_length=100)]] | None = Field(
        default=None, max_length=20, description="Tables to back up (default: all)"
    )
    destination: str | None = Field(
        default=None,
        max_length=2000,
        description="Must be the configured backup location (HRDATA_BACKUP_URI) when given: "
        "the API writes nowhere else.",
    )
    codec: Codec = "deflate"


class RestoreRequest(BaseModel):
    backup_id: str | None = Field(
        default=None,
        pattern=BACKUP_ID_PATTERN,
        description="The backup to restore from (default: the latest)",
    )


@router.post(
    "/v1/backups",
    status_code=202,
    summary="Take a backup of every table (or some) as a background job",
    responses=documented(401, 403, 404, 422, 503),
)
def start_backup(
    body: BackupRequest, _: AdminCaller, conn: ConnectionDep, settings: SettingsDep
) -> Job:
    location = storage_for(settings).location
    if body.destination is not None and body.destination.rstrip("/") != location:
        raise InvalidArgument(f"destination must be the configured backup location ({location})")
    tables = [t.name for t in tables_named(body.tables)] if body.tables else None

    job_id = jobs.start_backup(conn, settings, tables, body.codec, body.model_dump())
    return jobs.get_job(conn, job_id)


@router.get(
    "/v1/backups",
    summary="Complete backup sets, oldest first; those whose manifest is unreadable as broken",
    responses=documented(401, 403, 503),
)
def backups(_: ReadCaller, settings: SettingsDep) -> list[ListedBackupOut]:
    return [ListedBackupOut(**listed(entry)) for entry in list_backups(settings)]


@router.get(
    "/v1/backups/{backup_id}",
    summary="One backup set's manifest",
    responses=documented(401, 403, 404, 503),
)
def backup(backup_id: BackupId, _: ReadCaller, settings: SettingsDep) -> BackupOut:
    return BackupOut(**asdict(read_manifest(storage_for(settings), checked_backup_id(backup_id))))


@router.post(
    "/v1/backups/{backup_id}/verify",
    status_code=202,
    summary="Check every file of a backup set (checksums, rows, schemas) as a job",
    responses=documented(401, 403, 404, 503),
)
def verify(backup_id: BackupId, _: AdminCaller, conn: ConnectionDep, settings: SettingsDep) -> Job:
    read_manifest(storage_for(settings), checked_backup_id(backup_id))  # 404 now, not in the job
    return jobs.get_job(conn, jobs.start_verify(conn, settings, backup_id))


@router.post(
    "/v1/tables/{table}/restore",
    status_code=202,
    summary="Replace a table with its rows in a backup, atomically, as a job",
    responses=documented(401, 403, 404, 422, 503),
)
def start_restore(
    table: TablePath,
    body: RestoreRequest,
    _: AdminCaller,
    conn: ConnectionDep,
    settings: SettingsDep,
) -> Job:
    name = table_named(table).name
    storage = storage_for(settings)
    backup_id = body.backup_id or latest_backup(storage)
    if name not in read_manifest(storage, backup_id).tables:
        raise InvalidArgument(f"backup {backup_id} holds no {name}")
    return jobs.get_job(conn, jobs.start_restore(conn, settings, name, backup_id))
