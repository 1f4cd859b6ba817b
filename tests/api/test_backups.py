"""Backups and restores through the API: jobs, listings, refusals of ids and paths."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from hrdata.ingest.migrate import migrate
from hrdata.settings import Settings
from tests.support.fixture_types import ApiJob, AsRole, RowsIn
from tests.support.paths import CHALLENGE

# Start a job through the API and return it once it has ended.
EndedJob = Callable[..., dict[str, Any]]


@pytest.fixture
def loaded(settings: Settings, db: psycopg.Connection) -> None:
    migrate(settings, [str(CHALLENGE)])


@pytest.fixture
def backup(api: TestClient, as_role: AsRole, api_job: ApiJob) -> EndedJob:
    """Take a backup through the API (`body` is its request) and return its ended job."""

    def take(**body: Any) -> dict[str, Any]:
        return api_job(api, api.post("/v1/backups", json=body, headers=as_role("admin")))

    return take


@pytest.fixture
def restore(api: TestClient, as_role: AsRole, api_job: ApiJob) -> EndedJob:
    """Restore a table through the API (`body` is its request) and return its ended job."""

    def put_back(table: str, **body: Any) -> dict[str, Any]:
        started = api.post(f"/v1/tables/{table}/restore", json=body, headers=as_role("admin"))
        return api_job(api, started)

    return put_back


def test_backup_job_writes_a_set_that_is_listed_and_described(
    api: TestClient, as_role: AsRole, loaded: None, backup: EndedJob
) -> None:
    job = backup()
    backup_id = job["result"]["backup_id"]

    listed = api.get("/v1/backups", headers=as_role("read")).json()
    one = api.get(f"/v1/backups/{backup_id}", headers=as_role("read")).json()
    assert ("succeeded", [backup_id]) == (job["status"], [b["backup_id"] for b in listed])
    assert {"departments": 12, "jobs": 183, "hired_employees": 1930} == job["progress"]["tables"]
    assert 1930 == one["tables"]["hired_employees"]["rows"]


def test_restore_job_brings_a_table_back(
    api: TestClient,
    db: psycopg.Connection,
    loaded: None,
    rows_in: RowsIn,
    backup: EndedJob,
    restore: EndedJob,
) -> None:
    backup_id = backup()["result"]["backup_id"]
    db.execute("DELETE FROM hired_employees WHERE id > 100")

    job = restore("hired_employees", backup_id=backup_id)

    assert ("succeeded", 1930) == (job["status"], rows_in("hired_employees"))
    assert {"hired_employees": 1930} == job["progress"]["tables"]


def test_restore_job_that_would_orphan_rows_fails_with_the_reason(
    api: TestClient,
    db: psycopg.Connection,
    loaded: None,
    rows_in: RowsIn,
    backup: EndedJob,
    restore: EndedJob,
) -> None:
    backup(tables=["departments"])
    db.execute("INSERT INTO departments VALUES (99, 'new')")
    db.execute("INSERT INTO hired_employees VALUES (9999, 'x', now(), 99, 1)")

    job = restore("departments")

    assert "failed" == job["status"] and "department_id 99" in job["error"]
    assert 13 == rows_in("departments")


def test_verify_job_checks_a_set(
    api: TestClient, as_role: AsRole, loaded: None, api_job: ApiJob, backup: EndedJob
) -> None:
    backup_id = backup()["result"]["backup_id"]

    job = api_job(api, api.post(f"/v1/backups/{backup_id}/verify", headers=as_role("admin")))

    assert "succeeded" == job["status"]


@pytest.mark.parametrize(
    "path",
    [
        "/v1/backups/..%2F..%2Fetc",
        "/v1/backups/20260101T000000Z-abcdeg",
        "/v1/backups/20260101T000000Z-abcdef%2F..",
    ],
)
def test_backup_ids_that_are_not_ids_are_refused(
    api: TestClient, as_role: AsRole, path: str
) -> None:
    assert api.get(path, headers=as_role("read")).status_code in (404, 422)


def test_unknown_backup_is_404(api: TestClient, as_role: AsRole) -> None:
    assert (
        404 == api.get("/v1/backups/20260101T000000Z-abcdef", headers=as_role("read")).status_code
    )


def test_restore_with_a_backup_id_that_is_a_path_is_refused(
    api: TestClient, as_role: AsRole
) -> None:
    response = api.post(
        "/v1/tables/jobs/restore",
        json={"backup_id": "../../secrets"},
        headers=as_role("admin"),
    )

    assert 422 == response.status_code


def test_backup_to_an_arbitrary_destination_is_refused(api: TestClient, as_role: AsRole) -> None:
    response = api.post(
        "/v1/backups",
        json={"destination": "s3://someone-elses-bucket/x"},
        headers=as_role("admin"),
    )

    assert (422, "invalid_argument") == (response.status_code, response.json()["error"]["type"])


def test_only_admin_may_back_up_or_restore(api: TestClient, as_role: AsRole) -> None:
    statuses = [
        api.post("/v1/backups", json={}, headers=as_role("read")).status_code,
        api.post("/v1/tables/jobs/restore", json={}, headers=as_role("ingest")).status_code,
    ]

    assert [403, 403] == statuses
