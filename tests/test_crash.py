"""A migration killed with SIGKILL at any moment, then run again, ends with exactly the rows it
should: no loss, no duplicates, no half-loaded file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from hrdata.settings import Settings
from tests.support.fixture_types import RowsIn

# Every test kills and reruns real migrations: seconds each.
pytestmark = pytest.mark.slow

ROWS = 200_000
BAD_EVERY = 50  # every 50th employee has an empty name


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("export")
    (folder / "departments.csv").write_text(
        "".join(f"{i},Department {i}\r\n" for i in range(1, 13))
    )
    (folder / "jobs.csv").write_text("".join(f"{i},Job {i}\r\n" for i in range(1, 184)))
    with (folder / "hired_employees.csv").open("w") as out:
        for i in range(1, ROWS + 1):
            name = "" if i % BAD_EVERY == 0 else f"Employee {i}"
            out.write(
                f"{i},{name},2021-{i % 12 + 1:02d}-01T08:00:00Z,{i % 12 + 1},{i % 183 + 1}\r\n"
            )
    return folder


EXPECTED = {"departments": 12, "jobs": 183, "hired_employees": ROWS - ROWS // BAD_EVERY}


def start(settings: Settings, folder: Path) -> subprocess.Popen[bytes]:
    assert settings.database_url is not None
    env = {
        **os.environ,
        "HRDATA_DATABASE_URL": settings.database_url.get_secret_value(),
        "HRDATA_HOME": str(settings.home),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "hrdata", "migrate", str(folder), "--json", "--quiet"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=settings.home.parent,
    )


def wait_for(condition: Callable[[], bool], process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        assert process.poll() is None, "the migration ended before the kill point"
        assert time.monotonic() < deadline, "kill point never reached"
        time.sleep(0.005)


def copying_employees(db: psycopg.Connection, at_least: int) -> Callable[[], bool]:
    def check() -> bool:
        row = db.execute(
            "SELECT tuples_processed FROM pg_stat_progress_copy "
            "WHERE relid = 'hired_employees'::regclass"
        ).fetchone()
        return row is not None and row[0] >= at_least

    return check


def file_recorded(db: psycopg.Connection, table: str) -> Callable[[], bool]:
    def check() -> bool:
        row = db.execute("SELECT 1 FROM load_run_files WHERE table_name = %s", (table,)).fetchone()
        return row is not None

    return check


def run_started(db: psycopg.Connection) -> Callable[[], bool]:
    return lambda: db.execute("SELECT 1 FROM load_runs").fetchone() is not None


KILL_POINTS: dict[str, Callable[[psycopg.Connection], Callable[[], bool]]] = {
    "as the run starts": run_started,
    "after departments committed": lambda db: file_recorded(db, "departments"),
    "after jobs committed": lambda db: file_recorded(db, "jobs"),
    "early in the employees COPY": lambda db: copying_employees(db, 1),
    "late in the employees COPY": lambda db: copying_employees(db, ROWS // 2),
}


def kill(process: subprocess.Popen[bytes], db: psycopg.Connection) -> None:
    """SIGKILL the migration, then wait until the server has dropped its session."""
    process.send_signal(signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + 30
    while db.execute("SELECT 1 FROM pg_stat_activity WHERE application_name = 'hrdata'").fetchone():
        assert time.monotonic() < deadline, "the killed session never went away"
        time.sleep(0.01)


def rerun(settings: Settings, folder: Path) -> dict[str, object]:
    process = start(settings, folder)
    out, err = process.communicate(timeout=120)
    assert 0 == process.returncode, err.decode()
    summary: dict[str, object] = json.loads(out)
    return summary


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_migration_killed_then_rerun_ends_with_exact_rows(
    settings: Settings, db: psycopg.Connection, export: Path, point: str, rows_in: RowsIn
) -> None:
    process = start(settings, export)
    wait_for(KILL_POINTS[point](db), process)
    kill(process, db)

    rerun(settings, export)

    assert EXPECTED == {table: rows_in(table) for table in EXPECTED}


def test_killed_file_leaves_no_half_loaded_rows(
    settings: Settings, db: psycopg.Connection, export: Path, rows_in: RowsIn
) -> None:
    process = start(settings, export)
    wait_for(copying_employees(db, ROWS // 4), process)
    kill(process, db)

    assert (12, 183, 0) == (
        rows_in("departments"),
        rows_in("jobs"),
        rows_in("hired_employees"),
    )


def test_rerun_after_kill_marks_the_killed_run_interrupted(
    settings: Settings, db: psycopg.Connection, export: Path
) -> None:
    process = start(settings, export)
    wait_for(copying_employees(db, 1), process)
    kill(process, db)

    summary = rerun(settings, export)

    statuses = dict(db.execute("SELECT run_id, status FROM load_runs").fetchall())
    assert sorted(["interrupted", "succeeded"]) == sorted(statuses.values())
    assert "succeeded" == statuses[summary["run_id"]]


def test_rerun_killed_while_comparing_existing_rows_still_ends_exact(
    settings: Settings, db: psycopg.Connection, export: Path, rows_in: RowsIn
) -> None:
    rerun(settings, export)
    process = start(settings, export)

    def comparing() -> bool:
        # The candidates table is created in the run's open transaction, so its catalog row
        # is not visible here: a COPY into an invisible relation is the candidates COPY.
        row = db.execute(
            "SELECT 1 FROM pg_stat_progress_copy "
            "WHERE relid NOT IN (SELECT oid FROM pg_class) AND tuples_processed > 0"
        ).fetchone()
        return row is not None

    wait_for(comparing, process)
    kill(process, db)
    summary = rerun(settings, export)

    assert EXPECTED == {table: rows_in(table) for table in EXPECTED}
    assert 0 == sum(t["inserted"] for t in summary["tables"].values())  # type: ignore[attr-defined]


def test_two_migrations_at_once_insert_each_row_once(
    settings: Settings, rows_in: RowsIn, export: Path
) -> None:
    first, second = start(settings, export), start(settings, export)
    outputs = [p.communicate(timeout=120) for p in (first, second)]

    assert [0, 0] == [first.returncode, second.returncode], [e.decode() for _, e in outputs]
    assert EXPECTED == {table: rows_in(table) for table in EXPECTED}
    inserted = [json.loads(out)["tables"]["hired_employees"]["inserted"] for out, _ in outputs]
    assert EXPECTED["hired_employees"] == sum(inserted)
