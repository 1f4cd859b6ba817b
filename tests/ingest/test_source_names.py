"""How sources are named: the same file named twice is read once, and the summary says so."""

from __future__ import annotations

import json
import os
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from tests.support.fixture_types import AsRole, Invoke, MigrateViaApi, RowsIn
from tests.support.paths import CHALLENGE


@pytest.fixture
def departments(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    path = folder / "departments.csv"
    path.write_text("1,Sales\n2,HR\n")
    return path


@pytest.mark.parametrize(
    "spellings",
    [
        ["data/departments.csv", "data/departments.csv"],
        ["./data/departments.csv", "data/departments.csv"],
        ["data", "data/departments.csv"],
        ["data", "data/../data"],
        ["data/departments.csv", "link/departments.csv"],
    ],
    ids=["same", "dot-slash", "folder-and-file", "folder-twice", "symlink"],
)
def test_a_file_named_twice_is_read_once(
    run: Invoke, db: psycopg.Connection, departments: Path, spellings: list[str]
) -> None:
    (departments.parent.parent / "link").mkdir()
    os.symlink(departments, departments.parent.parent / "link" / "departments.csv")

    result = run("migrate", *spellings, "--json")

    report = json.loads(result.stdout)
    assert 0 == result.exit_code, result.output
    assert [2] == [f["read"] for f in report["tables"]["departments"]["files"]]
    assert 1 == len(report["notes"]) and "read once" in report["notes"][0]


def test_a_file_named_twice_is_noted_under_the_summary(
    run: Invoke, db: psycopg.Connection, departments: Path
) -> None:
    result = run("migrate", "data/departments.csv", "data/../data/departments.csv")

    assert 0 == result.exit_code, result.output
    assert (
        "Note: data/departments.csv: named 2 times (also as data/../data/departments.csv); "
        "read once\n"
    ) in result.stdout


def test_the_same_folder_twice_through_the_api_reads_each_file_once(
    api: TestClient, migrate_via_api: MigrateViaApi, rows_in: RowsIn
) -> None:
    job = migrate_via_api(api, sources=[str(CHALLENGE), str(CHALLENGE)])

    assert "succeeded" == job["status"], job
    assert [1] == [len(t["files"]) for t in job["result"]["tables"].values()][:1]
    assert 3 == len(job["result"]["notes"])
    assert 1930 == rows_in("hired_employees")


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "departments.csv"
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("kind", ["/dev/null", "fifo"])
def test_a_device_or_fifo_as_a_source_is_not_a_regular_file(
    run: Invoke, db: psycopg.Connection, fifo: Path, kind: str
) -> None:
    source = kind if kind.startswith("/") else str(fifo)

    result = run("migrate", source)

    assert (2, f"Error: {source}: not a regular file (a device, FIFO or socket)\n") == (
        result.exit_code,
        result.stderr,
    )


def test_a_fifo_named_after_a_table_in_a_folder_is_refused_not_skipped(
    run: Invoke, db: psycopg.Connection, fifo: Path
) -> None:
    result = run("migrate", str(fifo.parent))

    assert (2, f"Error: {fifo}: not a regular file (a device, FIFO or socket)\n") == (
        result.exit_code,
        result.stderr,
    )


def test_a_table_the_file_name_contradicts_is_refused(run: Invoke, rows_in: RowsIn) -> None:
    source = CHALLENGE / "departments.csv"

    result = run("migrate", str(source), "--table", "jobs")

    assert 2 == result.exit_code, result.output
    assert result.stderr.startswith(f"Error: {source}: named for table departments, not jobs")
    assert "--force" in result.stderr and 0 == rows_in("jobs")


def test_force_loads_a_file_into_the_table_its_name_contradicts(
    run: Invoke, rows_in: RowsIn
) -> None:
    result = run("migrate", str(CHALLENGE / "departments.csv"), "--table", "jobs", "--force")

    assert 0 == result.exit_code, result.output
    assert (12, 0) == (rows_in("jobs"), rows_in("departments"))


def test_a_file_named_for_no_table_loads_with_table_and_no_force(
    run: Invoke, rows_in: RowsIn, tmp_path: Path
) -> None:
    (tmp_path / "export-2021.csv").write_text("1,Sales\n")

    result = run("migrate", str(tmp_path / "export-2021.csv"), "--table", "jobs")

    assert (0, 1) == (result.exit_code, rows_in("jobs")), result.output


def test_the_api_refuses_a_table_the_file_name_contradicts(
    api: TestClient, as_role: AsRole
) -> None:
    body = {"sources": [str(CHALLENGE / "departments.csv")], "table": "jobs"}

    response = api.post("/v1/migrations", json=body, headers=as_role("admin"))

    assert 422 == response.status_code
    assert '"force": true' in response.json()["error"]["message"]


def test_the_api_names_its_own_fields_in_a_refusal_and_no_command_line_flag(
    api: TestClient, as_role: AsRole
) -> None:
    bodies = [
        {"sources": [str(CHALLENGE / "departments.csv")], "table": "jobs"},
        {"sources": [str(CHALLENGE)], "table": "jobs"},
        {"sources": [str(CHALLENGE)], "max_rejects": "lots"},
    ]

    errors = [
        api.post("/v1/migrations", json=body, headers=as_role("admin")).json()["error"]
        for body in bodies
    ]

    assert [
        (
            "source_error",
            f"{CHALLENGE / 'departments.csv'}: named for table departments, not jobs: "
            'rename it, or pass "force": true to load it into jobs',
        ),
        ("source_error", f'{CHALLENGE}: "table" applies to a single file, not a folder'),
        (
            "invalid_argument",
            "\"max_rejects\" 'lots': expected a count like 100 or a share like 2%",
        ),
    ] == [(error["type"], error["message"]) for error in errors]


def test_the_api_loads_it_with_force(
    api: TestClient, migrate_via_api: MigrateViaApi, rows_in: RowsIn
) -> None:
    job = migrate_via_api(
        api, sources=[str(CHALLENGE / "departments.csv")], table="jobs", force=True
    )

    assert ("succeeded", 12) == (job["status"], rows_in("jobs"))
