"""The rest of the API through HTTP: roles, reading rows and rejects, migrations as jobs,
the dictionary, health, readiness and the OpenAPI document."""

from __future__ import annotations

import psycopg
import pytest
from fastapi.testclient import TestClient

from hrdata.auth import revoke_key
from hrdata.dictionary import TABLES
from tests.support.fixture_types import AsRole, MigrateViaApi
from tests.support.paths import CHALLENGE


def test_request_without_key_is_401(api: TestClient) -> None:
    response = api.get("/v1/dictionary")

    assert (401, "not_authenticated", "Bearer") == (
        response.status_code,
        response.json()["error"]["type"],
        response.headers["WWW-Authenticate"],
    )


def test_unknown_key_is_401(api: TestClient, tokens: dict[str, str]) -> None:
    response = api.get("/v1/dictionary", headers={"Authorization": "Bearer hrd_000000000000_nope"})

    assert 401 == response.status_code


def test_revoked_key_is_401(
    api: TestClient, tokens: dict[str, str], db: psycopg.Connection, as_role: AsRole
) -> None:
    key_id = tokens["read"].split("_")[1]
    assert 200 == api.get("/v1/dictionary", headers=as_role("read")).status_code
    revoke_key(db, key_id)

    assert 401 == api.get("/v1/dictionary", headers=as_role("read")).status_code


@pytest.mark.parametrize("role", ["ingest", "read", "admin"])
def test_me_names_the_callers_key_and_role(
    api: TestClient, tokens: dict[str, str], role: str, as_role: AsRole
) -> None:
    body = api.get("/v1/me", headers=as_role(role)).json()

    assert (role, f"test {role}") == (body["role"], body["name"])
    assert tokens[role].startswith(f"Bearer hrd_{body['key_id']}_")


@pytest.mark.parametrize(
    ("role", "method", "path", "allowed"),
    [
        ("ingest", "post", "/v1/tables/departments/rows", True),
        ("read", "post", "/v1/tables/departments/rows", False),
        ("read", "get", "/v1/rejects", True),
        ("ingest", "get", "/v1/rejects", False),
        ("ingest", "post", "/v1/migrations", False),
        ("read", "post", "/v1/migrations", False),
        ("admin", "post", "/v1/tables/departments/rows", True),
        ("admin", "get", "/v1/rejects", True),
    ],
)
def test_roles_decide_what_a_key_may_do(
    api: TestClient, as_role: AsRole, role: str, method: str, path: str, allowed: bool
) -> None:
    body = (
        {"rows": [{"id": 1, "department": "Sales"}]}
        if "rows" in path
        else {"sources": [str(CHALLENGE)]}
    )
    response = api.request(
        method, path, json=body if method == "post" else None, headers=as_role(role)
    )

    assert allowed == (response.status_code != 403)


def test_reads_rows_page_by_page(api: TestClient, as_role: AsRole, db: psycopg.Connection) -> None:
    db.execute("INSERT INTO departments SELECT i, 'Dept ' || i FROM generate_series(1, 5) i")
    headers = as_role("read")

    first = api.get("/v1/tables/departments/rows", params={"limit": 3}, headers=headers).json()
    second = api.get(
        "/v1/tables/departments/rows",
        params={"limit": 3, "after": first["next_after"]},
        headers=headers,
    ).json()

    assert ([1, 2, 3], [4, 5], None) == (
        [r["id"] for r in first["rows"]],
        [r["id"] for r in second["rows"]],
        second["next_after"],
    )


def test_rows_show_datetimes_in_utc(
    api: TestClient, as_role: AsRole, db: psycopg.Connection
) -> None:
    db.execute("INSERT INTO departments VALUES (1, 'Sales'); INSERT INTO jobs VALUES (1, 'Clerk')")
    db.execute("INSERT INTO hired_employees VALUES (1, 'Ada', '2021-03-01T10:00:00+02:00', 1, 1)")

    rows = api.get("/v1/tables/hired_employees/rows", headers=as_role("read")).json()["rows"]

    assert "2021-03-01T08:00:00Z" == rows[0]["datetime"]


def test_migration_runs_as_a_job_with_its_summary(
    api: TestClient, migrate_via_api: MigrateViaApi
) -> None:
    job = migrate_via_api(api, sources=[str(CHALLENGE)])

    assert ("succeeded", 1930, 69) == (
        job["status"],
        job["result"]["tables"]["hired_employees"]["inserted"],
        job["result"]["tables"]["hired_employees"]["rejected"],
    )
    assert {"departments", "jobs", "hired_employees"} == {
        f["table"] for f in job["progress"]["files"].values()
    }


def test_migration_of_a_missing_path_is_refused_at_once(api: TestClient, as_role: AsRole) -> None:
    response = api.post(
        "/v1/migrations",
        json={"sources": [str(CHALLENGE.parent / "nowhere")]},
        headers=as_role("admin"),
    )

    assert (422, "source_error") == (response.status_code, response.json()["error"]["type"])


def test_migration_of_a_path_too_long_for_the_file_system_is_422(
    api: TestClient, as_role: AsRole
) -> None:
    response = api.post(
        "/v1/migrations",
        json={"sources": [str(CHALLENGE.parent / ("x" * 300))]},
        headers=as_role("admin"),
    )

    assert (422, "source_error") == (response.status_code, response.json()["error"]["type"])


def test_migration_body_that_is_not_utf8_is_422(api: TestClient, as_role: AsRole) -> None:
    response = api.post(
        "/v1/migrations",
        content=b'{"sources": ["\xff"]}',
        headers={**as_role("admin"), "Content-Type": "application/json"},
    )

    assert (422, "bad_request_body") == (response.status_code, response.json()["error"]["type"])


@pytest.mark.parametrize(
    "path", ["/v1/rejects?source=a%00b", "/v1/rejects?run_id=a%00b", "/v1/jobs/a%00b"]
)
def test_parameter_with_a_nul_is_422(api: TestClient, as_role: AsRole, path: str) -> None:
    assert 422 == api.get(path, headers=as_role("read")).status_code


def test_unknown_job_is_404(api: TestClient, as_role: AsRole) -> None:
    assert 404 == api.get("/v1/migrations/feedfacefeedface", headers=as_role("read")).status_code


def test_rejects_filter_by_table_and_run(
    api: TestClient, as_role: AsRole, migrate_via_api: MigrateViaApi
) -> None:
    job = migrate_via_api(api, sources=[str(CHALLENGE)])
    run_id = job["result"]["run_id"]

    page = api.get(
        "/v1/rejects",
        params={"table": "hired_employees", "run_id": run_id, "limit": 50},
        headers=as_role("read"),
    ).json()
    rest = api.get(
        "/v1/rejects",
        params={"table": "hired_employees", "after": page["next_after"]},
        headers=as_role("read"),
    ).json()

    assert (50, 19, None) == (len(page["rejects"]), len(rest["rejects"]), rest["next_after"])
    assert {"missing"} == {r["reasons"][0]["code"] for r in page["rejects"]}


def test_dictionary_lists_every_table_and_column(api: TestClient, as_role: AsRole) -> None:
    served = api.get("/v1/dictionary", headers=as_role("read")).json()

    assert [(t.name, list(t.column_names)) for t in TABLES] == [
        (t["name"], [c["name"] for c in t["columns"]]) for t in served
    ]


def test_health_and_readiness(api: TestClient) -> None:
    assert (200, 200) == (api.get("/health").status_code, api.get("/ready").status_code)


def test_every_response_carries_a_request_id(api: TestClient) -> None:
    response = api.get("/health", headers={"X-Request-ID": "trace-123"})

    assert "trace-123" == response.headers["X-Request-ID"]


def test_unknown_route_is_a_json_404(api: TestClient) -> None:
    response = api.get("/v2/nothing")

    assert (404, "not_found") == (response.status_code, response.json()["error"]["type"])


def test_openapi_documents_every_error_response(api: TestClient) -> None:
    spec = api.get("/openapi.json").json()

    post_rows = spec["paths"]["/v1/tables/{table}/rows"]["post"]
    assert {"200", "401", "403", "404", "409", "413", "415", "422", "503"} <= set(
        post_rows["responses"]
    )
    assert 200 == api.get("/docs").status_code
