"""Backups and restores through the API: jobs, listings, refusals of ids and paths."""

from __future__ import annotations

import time
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from conftest import CHALLENGE, as_role, count
from hrdata.ingest.migrate import migrate
from hrdata.settings import Settings


@pytest.fixture
def loaded(settings: Settings, db: psycopg.Connection) -> None:
    migrate(settings, [str(CHALLENGE)])


def finished(api: TestClient, tokens: dict[str, str], started: Any) -> dict[str, Any]:
    assert 202 == started.status_code, started.text
    deadline = time.monotonic() + 60
    while True:
        job: dict[str, Any] = api.get(
            f"/v1/jobs/{started.json()['job_id']}", headers=as_role(tokens, "read")
        ).json()
        if job["status"] != "running":
            return job
        assert time.monotonic() < deadline
        time.sleep(0.05)


def backup(api: TestClient, tokens: dict[str, str], **body: Any) -> dict[str, Any]:
    return finished(
        api, tokens, api.post("/v1/backups", json=body, headers=as_role(tokens, "admin"))
    )


def test_backup_job_writes_a_set_that_is_listed_and_described(
    api: TestClient, tokens: dict[str, str], loaded: None
) -> None:
    job = backup(api, tokens)
    backup_id = job["result"]["backup_id"]

    listed = api.get("/v1/backups", headers=as_role(tokens, "read")).json()
    one = api.get(f"/v1/backups/{backup_id}", headers=as_role(tokens, "read")).json()
    assert ("succeeded", [backup_id]) == (job["status"], [b["backup_id"] for b in listed])
    assert {"departments": 12, "jobs": 183, "hired_employees": 1930} == job["progress"]["tables"]
    assert 1930 == one["tables"]["hired_employees"]["rows"]


def test_restore_job_brings_a_table_back(
    api: TestClient, tokens: dict[str, str], db: psycopg.Connection, loaded: None
) -> None:
    backup_id = backup(api, tokens)["result"]["backup_id"]
    db.execute("DELETE FROM hired_employees WHERE id > 100")

    job = finished(
        api,
        tokens,
        api.post(
            "/v1/tables/hired_employees/restore",
            json={"backup_id": backup_id},
            headers=as_role(tokens, "admin"),
        ),
    )

    assert ("succeeded", 1930) == (job["status"], count(db, "hired_employees"))
    assert {"hired_employees": 1930} == job["progress"]["tables"]


def test_restore_job_that_would_orphan_rows_fails_with_the_reason(
    api: TestClient, tokens: dict[str, str], db: psycopg.Connection, loaded: None
) -> None:
    backup(api, tokens, tables=["departments"])
    db.execute("INSERT INTO departments VALUES (99, 'new')")
    db.execute("INSERT INTO hired_employees VALUES (9999, 'x', now(), 99, 1)")

    job = finished(
        api,
        tokens,
        api.post("/v1/tables/departments/restore", json={}, headers=as_role(tokens, "admin")),
    )

    assert "failed" == job["status"] and "department_id 99" in job["error"]
    assert 13 == count(db, "departments")


def test_verify_job_checks_a_set(api: TestClient, tokens: dict[str, str], loaded: None) -> None:
    backup_id = backup(api, tokens)["result"]["backup_id"]

    job = finished(
        api, tokens, api.post(f"/v1/backups/{backup_id}/verify", headers=as_role(tokens, "admin"))
    )

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
    api: TestClient, tokens: dict[str, str], path: str
) -> None:
    assert api.get(path, headers=as_role(tokens, "read")).status_code in (404, 422)


def test_unknown_backup_is_404(api: TestClient, tokens: dict[str, str]) -> None:
    assert (
        404
        == api.get(
            "/v1/backups/20260101T000000Z-abcdef", headers=as_role(tokens, "read")
        ).status_code
    )


def test_restore_with_a_backup_id_that_is_a_path_is_refused(
    api: TestClient, tokens: dict[str, str]
) -> None:
    response = api.post(
        "/v1/tables/jobs/restore",
        json={"backup_id": "../../secrets"},
        headers=as_role(tokens, "admin"),
    )

    assert 422 == response.status_code


def test_backup_to_an_arbitrary_destination_is_refused(
    api: TestClient, tokens: dict[str, str]
) -> None:
    response = api.post(
        "/v1/backups",
        json={"destination": "s3://someone-elses-bucket/x"},
        headers=as_role(tokens, "admin"),
    )

    assert (422, "invalid_argument") == (response.status_code, response.json()["error"]["type"])


def test_only_admin_may_back_up_or_restore(api: TestClient, tokens: dict[str, str]) -> None:
    statuses = [
        api.post("/v1/backups", json={}, headers=as_role(tokens, "read")).status_code,
        api.post("/v1/tables/jobs/restore", json={}, headers=as_role(tokens, "ingest")).status_code,
    ]

    assert [403, 403] == statuses
