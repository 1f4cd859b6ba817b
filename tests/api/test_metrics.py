"""The metrics endpoints: answers equal to the export's own counts, JSON or CSV, never stale."""

from __future__ import annotations

import csv
import io
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from hrdata.backup.sets import take_backup
from hrdata.ingest.migrate import migrate
from hrdata.settings import Settings
from tests.support.challenge import expected_above_mean, expected_mean, expected_quarters
from tests.support.fixture_types import ApiJob, AsRole, RowsIn
from tests.support.paths import CHALLENGE

QUARTERS = "/v1/metrics/hires-by-quarter"
ABOVE_MEAN = "/v1/metrics/departments-above-mean"


@pytest.fixture
def loaded(settings: Settings, db: psycopg.Connection) -> None:
    migrate(settings, [str(CHALLENGE)])


def get(api: TestClient, as_role: AsRole, path: str, **params: Any) -> Any:
    response = api.get(path, params=params, headers=as_role("read"))
    assert 200 == response.status_code, response.text
    return response.json()


def quarter_rows(expected: list[Any]) -> list[dict[str, Any]]:
    return [
        {"department_id": r.department_id, "department": r.department}
        | {"job_id": r.job_id, "job": r.job, "Q1": r.q1, "Q2": r.q2, "Q3": r.q3, "Q4": r.q4}
        for r in expected
    ]


def test_hires_by_quarter_match_the_export(api: TestClient, as_role: AsRole, loaded: None) -> None:
    body = get(api, as_role, QUARTERS, year=2021)

    assert 2021 == body["year"]
    assert quarter_rows(expected_quarters(2021)) == body["rows"]


@pytest.mark.parametrize("mean_over", ["all", "hiring"])
def test_departments_above_mean_match_the_export(
    api: TestClient, as_role: AsRole, loaded: None, mean_over: str
) -> None:
    body = get(api, as_role, ABOVE_MEAN, year=2021, mean_over=mean_over)

    assert [
        asdict(r) | {"department_id": r.id} for r in expected_above_mean(2021, mean_over)
    ] == body["rows"]
    assert expected_mean(2021, mean_over) == pytest.approx(body["mean"])
    assert mean_over == body["mean_over"]


def test_the_year_defaults_to_2021_and_the_mean_to_all_departments(
    api: TestClient, as_role: AsRole, loaded: None
) -> None:
    body = get(api, as_role, ABOVE_MEAN)

    assert (2021, "all") == (body["year"], body["mean_over"])
    assert get(api, as_role, QUARTERS)["rows"] == get(api, as_role, QUARTERS, year=2021)["rows"]


def test_every_answer_names_the_data_it_reflects(
    api: TestClient, as_role: AsRole, loaded: None
) -> None:
    response = api.get(QUARTERS, headers=as_role("read"))
    data = response.json()["data"]

    assert (1930, 12, 183) == (data["hired_employees"], data["departments"], data["jobs"])
    assert data["latest_change"] is not None
    assert "1930" == response.headers["X-Data-Rows"]
    assert response.headers["X-Data-Latest-Change"]
    assert "no-store" == response.headers["Cache-Control"]


@pytest.mark.parametrize(
    ("params", "headers"),
    [({"format": "csv"}, {}), ({}, {"Accept": "text/csv"})],
    ids=["format-parameter", "accept-header"],
)
def test_hires_by_quarter_as_csv(
    api: TestClient,
    as_role: AsRole,
    loaded: None,
    params: dict[str, str],
    headers: dict[str, str],
) -> None:
    response = api.get(QUARTERS, params=params, headers={**as_role("read"), **headers})

    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    header = ["department_id", "department", "job_id", "job", "Q1", "Q2", "Q3", "Q4"]
    assert header == rows[0]
    expected = [
        [str(r.department_id), r.department, str(r.job_id), r.job]
        + [str(q) for q in (r.q1, r.q2, r.q3, r.q4)]
        for r in expected_quarters(2021)
    ]
    assert expected == rows[1:]
    assert "1930" == response.headers["X-Data-Rows"]


def test_departments_above_mean_as_csv(api: TestClient, as_role: AsRole, loaded: None) -> None:
    response = api.get(ABOVE_MEAN, params={"format": "csv"}, headers=as_role("read"))

    rows = list(csv.reader(io.StringIO(response.text)))
    expected = [
        [str(r.id), str(r.id), r.department, str(r.hired)] for r in expected_above_mean(2021)
    ]
    assert [["id", "department_id", "department", "hired"], *expected] == rows


def test_the_format_parameter_wins_over_the_accept_header(
    api: TestClient, as_role: AsRole, loaded: None
) -> None:
    response = api.get(
        QUARTERS,
        params={"format": "json"},
        headers={**as_role("read"), "Accept": "text/csv"},
    )

    assert response.headers["content-type"].startswith("application/json")


def test_a_year_without_hires_answers_empty(api: TestClient, as_role: AsRole, loaded: None) -> None:
    assert [] == get(api, as_role, QUARTERS, year=1999)["rows"]
    assert ([], 0) == (
        get(api, as_role, ABOVE_MEAN, year=1999)["rows"],
        get(api, as_role, ABOVE_MEAN, year=1999)["mean"],
    )


@pytest.mark.parametrize(
    "params",
    [{"year": "twenty"}, {"year": 0}, {"year": 10000}, {"mean_over": "some"}, {"format": "xml"}],
)
def test_bad_parameters_are_refused_with_422(
    api: TestClient, as_role: AsRole, params: dict[str, Any]
) -> None:
    response = api.get(ABOVE_MEAN, params=params, headers=as_role("read"))

    assert (422, "invalid_request") == (response.status_code, response.json()["error"]["type"])


@pytest.mark.parametrize("path", [QUARTERS, ABOVE_MEAN])
def test_metrics_need_a_key_with_role_read(api: TestClient, as_role: AsRole, path: str) -> None:
    assert 401 == api.get(path).status_code
    assert 403 == api.get(path, headers=as_role("ingest")).status_code
    assert 200 == api.get(path, headers=as_role("admin")).status_code


def test_a_row_inserted_through_the_api_shows_in_the_very_next_answer(
    api: TestClient, as_role: AsRole, loaded: None
) -> None:
    before = get(api, as_role, ABOVE_MEAN, mean_over="hiring")
    rows = [
        {
            "id": 5000 + i,
            "name": "New",
            "datetime": "2021-05-05T10:00:00Z",
            "department_id": 1,
            "job_id": 1,
        }
        for i in range(300)
    ]
    posted = api.post(
        "/v1/tables/hired_employees/rows",
        json={"rows": rows},
        headers=as_role("ingest"),
    )
    assert 300 == posted.json()["inserted"], posted.text

    after = get(api, as_role, ABOVE_MEAN, mean_over="hiring")

    assert 1 not in [r["id"] for r in before["rows"]]
    assert 1 == after["rows"][0]["id"]
    assert 2230 == after["data"]["hired_employees"]
    assert after["data"]["latest_change"] > before["data"]["latest_change"]


def test_a_migration_shows_in_the_very_next_answer(
    api: TestClient,
    as_role: AsRole,
    settings: Settings,
    db: psycopg.Connection,
    tmp_path: Path,
) -> None:
    assert [] == get(api, as_role, QUARTERS)["rows"]
    for name in ("departments.csv", "jobs.csv", "hired_employees.csv"):
        shutil.copy(CHALLENGE / name, tmp_path / name)

    migrate(settings, [str(tmp_path)])

    assert quarter_rows(expected_quarters(2021)) == get(api, as_role, QUARTERS)["rows"]


def test_a_restore_shows_in_the_very_next_answer(
    api: TestClient,
    as_role: AsRole,
    settings: Settings,
    db: psycopg.Connection,
    loaded: None,
    rows_in: RowsIn,
    api_job: ApiJob,
) -> None:
    backup_id = take_backup(settings).backup_id
    db.execute("DELETE FROM hired_employees WHERE id > 100")
    assert get(api, as_role, QUARTERS)["data"]["hired_employees"] < 100

    started = api.post(
        "/v1/tables/hired_employees/restore",
        json={"backup_id": backup_id},
        headers=as_role("admin"),
    )
    api_job(api, started)

    body = get(api, as_role, QUARTERS)
    assert 1930 == body["data"]["hired_employees"] == rows_in("hired_employees")
    assert quarter_rows(expected_quarters(2021)) == body["rows"]


def test_a_hire_in_the_last_year_the_dictionary_allows_is_counted_in_that_year(
    api: TestClient, as_role: AsRole, db: psycopg.Connection
) -> None:
    rows = {
        "departments": [{"id": 1, "department": "Sales"}],
        "jobs": [{"id": 1, "job": "Clerk"}],
        "hired_employees": [
            {
                "id": 1,
                "name": "A",
                "datetime": "9999-12-31T23:59:59Z",
                "department_id": 1,
                "job_id": 1,
            }
        ],
    }
    for table, batch in rows.items():
        response = api.post(
            f"/v1/tables/{table}/rows", json={"rows": batch}, headers=as_role("ingest")
        )
        assert 1 == response.json()["inserted"], response.text

    quarters = get(api, as_role, QUARTERS, year=9999)["rows"]

    assert [
        {"department_id": 1, "department": "Sales", "job_id": 1, "job": "Clerk"}
        | {"Q1": 0, "Q2": 0, "Q3": 0, "Q4": 1}
    ] == quarters
    assert 1 == get(api, as_role, ABOVE_MEAN, year=9999)["mean"]


FORMULAS = ['=HYPERLINK("http://evil","x")', "+1+1", "-2+3", "@SUM(A1)"]


@pytest.fixture
def formulas(api: TestClient, as_role: AsRole) -> None:
    """Departments and a job named like formulas, each department with two hires in 2021,
    and one plain department with none (so the others are above the mean)."""
    headers = as_role("admin")
    departments = [{"id": i, "department": n} for i, n in enumerate([*FORMULAS, "Plain"], 1)]
    hires = [
        {"id": 10 * d + k, "name": f"P{d}{k}", "datetime": "2021-02-01T00:00:00Z"}
        | {"department_id": d, "job_id": 1}
        for d in range(1, len(FORMULAS) + 1)
        for k in range(2)
    ]
    for table, rows in [
        ("departments", departments),
        ("jobs", [{"id": 1, "job": "=cmd|' /C calc'!A0"}]),
        ("hired_employees", hires),
    ]:
        response = api.post(f"/v1/tables/{table}/rows", json={"rows": rows}, headers=headers)
        assert (200, []) == (response.status_code, response.json()["rejected"]), response.text


def csv_rows(api: TestClient, as_role: AsRole, path: str) -> list[dict[str, str]]:
    response = api.get(path, params={"format": "csv"}, headers=as_role("read"))
    assert 200 == response.status_code, response.text
    return list(csv.DictReader(io.StringIO(response.text)))


def test_departments_above_mean_csv_neutralises_cells_that_start_a_formula(
    api: TestClient, as_role: AsRole, formulas: None
) -> None:
    rows = csv_rows(api, as_role, ABOVE_MEAN)

    assert sorted(f"'{name}" for name in FORMULAS) == sorted(r["department"] for r in rows)


def test_hires_by_quarter_csv_neutralises_cells_that_start_a_formula(
    api: TestClient, as_role: AsRole, formulas: None
) -> None:
    rows = csv_rows(api, as_role, QUARTERS)

    assert sorted(f"'{name}" for name in FORMULAS) == sorted(r["department"] for r in rows)
    assert {"'=cmd|' /C calc'!A0"} == {r["job"] for r in rows}


def test_json_answers_keep_the_names_as_stored(
    api: TestClient, as_role: AsRole, formulas: None
) -> None:
    body = get(api, as_role, ABOVE_MEAN, year=2021)

    assert sorted(FORMULAS) == sorted(r["department"] for r in body["rows"])


# --- departments and jobs that share a name ---------------------------------------------------


def test_hires_by_quarter_keep_departments_and_jobs_sharing_a_name_apart(
    api: TestClient, as_role: AsRole, namesakes: None
) -> None:
    rows = get(api, as_role, QUARTERS, year=2021)["rows"]

    assert [
        {"department_id": 11, "department": "Legal", "job_id": 1, "job": "Clerk"}
        | {"Q1": 3, "Q2": 0, "Q3": 0, "Q4": 0},
        {"department_id": 13, "department": "Legal", "job_id": 2, "job": "Clerk"}
        | {"Q1": 0, "Q2": 2, "Q3": 0, "Q4": 0},
    ] == rows


def test_hires_by_quarter_csv_keeps_departments_and_jobs_sharing_a_name_apart(
    api: TestClient, as_role: AsRole, namesakes: None
) -> None:
    rows = csv_rows(api, as_role, QUARTERS)

    assert [("11", "Legal", "1", "Clerk", "3"), ("13", "Legal", "2", "Clerk", "0")] == [
        (r["department_id"], r["department"], r["job_id"], r["job"], r["Q1"]) for r in rows
    ]


@pytest.mark.parametrize("as_csv", [False, True], ids=["json", "csv"])
def test_departments_above_mean_keep_departments_sharing_a_name_apart(
    api: TestClient, as_role: AsRole, namesakes: None, as_csv: bool
) -> None:
    rows = csv_rows(api, as_role, ABOVE_MEAN) if as_csv else get(api, as_role, ABOVE_MEAN)["rows"]

    assert [("11", "11", "Legal", "3"), ("13", "13", "Legal", "2")] == [
        (str(r["id"]), str(r["department_id"]), r["department"], str(r["hired"])) for r in rows
    ]
