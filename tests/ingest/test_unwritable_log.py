"""A reject-log location that cannot be written: the rows and rejects are committed in
PostgreSQL, so the answer says so (200, exit 0) with a warning, and the log is published later."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from hrdata.api.app import create_app
from hrdata.ingest.migrate import migrate
from hrdata.settings import Settings
from tests.support.fixture_types import AsRole, Invoke, RowsIn

NO_LOG = "/proc/nolog"  # its parent exists, but no folder can be created there
ROWS = {"rows": [{"id": 1, "department": "Sales"}, {"id": 2, "department": " "}]}


@pytest.fixture
def broken(settings: Settings) -> Settings:
    return settings.model_copy(update={"log_uri": NO_LOG})


@pytest.fixture
def broken_api(broken: Settings, db: psycopg.Connection) -> Iterator[TestClient]:
    with TestClient(create_app(broken)) as client:
        yield client


def departments(tmp_path: Path) -> Path:
    path = tmp_path / "departments.csv"
    path.write_text("1,Sales\n2, \n")
    return path


def test_a_batch_whose_log_cannot_be_written_answers_200_with_a_warning(
    broken_api: TestClient, as_role: AsRole, rows_in: RowsIn
) -> None:
    response = broken_api.post("/v1/tables/departments/rows", json=ROWS, headers=as_role("ingest"))

    body = response.json()
    assert (200, 1, 1) == (response.status_code, body["inserted"], len(body["rejected"]))
    assert 1 == len(body["warnings"]) and NO_LOG in body["warnings"][0]
    assert (1, 1) == (rows_in("departments"), rows_in("rejected_rows"))


def test_a_batch_whose_log_is_written_has_no_warnings(api: TestClient, as_role: AsRole) -> None:
    response = api.post("/v1/tables/departments/rows", json=ROWS, headers=as_role("ingest"))

    assert [] == response.json()["warnings"]


def test_the_log_of_such_a_batch_is_published_by_the_next_migration(
    broken_api: TestClient,
    as_role: AsRole,
    settings: Settings,
    db: psycopg.Connection,
    tmp_path: Path,
) -> None:
    request_id = broken_api.post(
        "/v1/tables/departments/rows", json=ROWS, headers=as_role("ingest")
    ).json()["request_id"]

    migrate(settings, [str(departments(tmp_path))])

    log = settings.home / "logs" / "rejects" / "api" / f"{request_id}-departments.jsonl"
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(1, {"id": 2, "department": " "})] == [(r["line"], r["raw"]) for r in records]


def test_the_log_of_such_a_batch_is_published_by_the_next_batch_whose_log_is_written(
    broken_api: TestClient,
    api: TestClient,
    as_role: AsRole,
    settings: Settings,
    rows_in: RowsIn,
) -> None:
    request_id = broken_api.post(
        "/v1/tables/departments/rows", json=ROWS, headers=as_role("ingest")
    ).json()["request_id"]

    api.post("/v1/tables/departments/rows", json=ROWS, headers=as_role("ingest"))

    log = settings.home / "logs" / "rejects" / "api" / f"{request_id}-departments.jsonl"
    assert log.is_file()
    assert 0 == rows_in("pending_reject_logs")


def test_a_migration_whose_log_cannot_be_written_exits_0_with_one_warning_line(
    run: Invoke, db: psycopg.Connection, tmp_path: Path, rows_in: RowsIn
) -> None:
    result = run("migrate", str(departments(tmp_path)), HRDATA_LOG_URI=NO_LOG)

    warnings = [line for line in result.stderr.splitlines() if line.startswith("Warning: ")]
    assert 0 == result.exit_code, result.output
    assert "Traceback" not in result.output
    assert 1 == len(warnings) and NO_LOG in warnings[0], result.stderr
    assert [("succeeded",)] == db.execute("SELECT status FROM load_runs").fetchall()
    assert 1 == rows_in("departments")


def test_a_migration_summary_lists_the_warning(
    run: Invoke, db: psycopg.Connection, tmp_path: Path
) -> None:
    result = run("migrate", str(departments(tmp_path)), "--json", HRDATA_LOG_URI=NO_LOG)

    warnings = json.loads(result.stdout)["warnings"]
    assert 1 == len(warnings) and NO_LOG in warnings[0]


def test_a_migration_starts_while_earlier_logs_still_cannot_be_written(
    run: Invoke, db: psycopg.Connection, tmp_path: Path
) -> None:
    run("migrate", str(departments(tmp_path)), HRDATA_LOG_URI=NO_LOG)

    again = run("migrate", str(departments(tmp_path)), "--json", HRDATA_LOG_URI=NO_LOG)

    assert 0 == again.exit_code, again.output
    assert [("succeeded",), ("succeeded",)] == db.execute("SELECT status FROM load_runs").fetchall()


def test_the_log_of_such_a_migration_is_published_by_the_next_one(
    run: Invoke, settings: Settings, db: psycopg.Connection, tmp_path: Path
) -> None:
    first = json.loads(
        run("migrate", str(departments(tmp_path)), "--json", HRDATA_LOG_URI=NO_LOG).stdout
    )

    run("migrate", str(departments(tmp_path)))

    log = settings.home / "logs" / "rejects" / first["run_id"] / "01-departments.jsonl"
    assert [2] == [json.loads(line)["line"] for line in log.read_text().splitlines()]


@pytest.mark.parametrize(
    ("stop", "status"), [(RuntimeError, "failed"), (KeyboardInterrupt, "interrupted")]
)
def test_a_run_stopped_by_anything_does_not_stay_running(
    settings: Settings, db: psycopg.Connection, tmp_path: Path, stop: type, status: str
) -> None:
    def progress(_: object) -> Callable[[int], None]:
        raise stop("stopped from outside")

    with pytest.raises(stop):
        migrate(settings, [str(departments(tmp_path))], progress=progress)

    assert [(status,)] == db.execute("SELECT status FROM load_runs").fetchall()
