"""A run that loads some files and then fails on one: the files in stay in, the exit code (8)
and the summary say which are in, which failed (why) and which were not started."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from hrdata.api.app import create_app
from hrdata.errors import RunPartlyLoaded, exit_code
from hrdata.ingest.migrate import migrate
from hrdata.settings import Settings
from tests.support.fixture_types import Invoke, MigrateViaApi, RowsIn

PARTLY_LOADED = exit_code(RunPartlyLoaded)


@pytest.fixture
def export(tmp_path: Path) -> Path:
    """departments (fine), jobs (a gzip cut in half), hired_employees (fine): in load order."""
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "departments.csv").write_text("1,Sales\n2,HR\n")
    jobs = gzip.compress(b"".join(f"{i},Job {i}\n".encode() for i in range(1, 50_000)))
    (folder / "jobs.csv.gz").write_bytes(jobs[: len(jobs) // 2])
    (folder / "hired_employees.csv").write_text("1,Ann,2021-01-01T00:00:00Z,1,1\n")
    return folder


def statuses(report: dict[str, object]) -> dict[str, str]:
    tables = report["tables"]
    assert isinstance(tables, dict)
    return {Path(f["source"]).name: f["status"] for t in tables.values() for f in t["files"]}


def test_a_run_failing_after_some_files_keeps_them_and_says_which_are_in(
    settings: Settings, db: psycopg.Connection, export: Path, rows_in: RowsIn
) -> None:
    with pytest.raises(RunPartlyLoaded) as raised:
        migrate(settings, [str(export)])

    assert {
        "departments.csv": "loaded",
        "jobs.csv.gz": "failed",
        "hired_employees.csv": "not_started",
    } == statuses(raised.value.report)
    assert (2, 0, 0) == (rows_in("departments"), rows_in("jobs"), rows_in("hired_employees"))
    assert [("failed",)] == db.execute("SELECT status FROM load_runs").fetchall()


def test_the_failed_file_carries_why(
    settings: Settings, db: psycopg.Connection, export: Path
) -> None:
    with pytest.raises(RunPartlyLoaded) as raised:
        migrate(settings, [str(export)])

    (jobs,) = raised.value.report["tables"]["jobs"]["files"]
    assert "reading failed" in jobs["error"]


def test_the_cli_exits_8_and_prints_the_summary_as_json(
    run: Invoke, db: psycopg.Connection, export: Path
) -> None:
    result = run("migrate", str(export), "--json")

    assert PARTLY_LOADED == result.exit_code, result.output
    assert "loaded" == statuses(json.loads(result.stdout))["departments.csv"]
    assert 1 == len(result.stderr.splitlines()) and "Traceback" not in result.output
    assert "jobs.csv.gz" in result.stderr


def test_the_cli_lists_each_file_as_in_failed_or_not_started(
    run: Invoke, db: psycopg.Connection, export: Path
) -> None:
    result = run("migrate", str(export))

    lines = result.stdout.splitlines()
    assert PARTLY_LOADED == result.exit_code, result.output
    assert f"{export / 'departments.csv'}: loaded" in lines
    assert any(line.startswith(f"{export / 'jobs.csv.gz'}: failed: ") for line in lines)
    assert f"{export / 'hired_employees.csv'}: not started" in lines


def test_a_run_failing_on_its_first_file_still_exits_2(
    run: Invoke, db: psycopg.Connection, export: Path
) -> None:
    result = run("migrate", str(export / "jobs.csv.gz"))

    assert 2 == result.exit_code, result.output


def test_a_migration_job_failing_after_some_files_lists_which_are_in(
    settings: Settings, db: psycopg.Connection, migrate_via_api: MigrateViaApi, export: Path
) -> None:
    allowed = settings.model_copy(update={"source_roots": [str(export)]})
    with TestClient(create_app(allowed)) as api:
        job = migrate_via_api(api, sources=[str(export)])

    assert "failed" == job["status"] and "jobs.csv.gz" in job["error"]
    assert "loaded" == statuses(job["result"])["departments.csv"]
