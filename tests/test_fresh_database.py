"""Commands run against a database that has no hrdata table yet make the schema first."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from tests.support.database import count
from tests.support.fixture_types import Invoke, RowsIn
from tests.support.paths import CHALLENGE


@pytest.fixture
def empty_database(database_url: str) -> Iterator[str]:
    """A new database on the test session's server, without any table."""
    name = f"hrdata_fresh_{secrets.token_hex(4)}"
    with psycopg.connect(database_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield make_conninfo(database_url, dbname=name)
    with psycopg.connect(database_url, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def _tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchall()
    return {name for (name,) in rows}


def test_migrate_into_a_database_without_tables_makes_them_and_loads_the_export(
    run: Invoke, empty_database: str
) -> None:
    result = run("migrate", str(CHALLENGE), "--json", HRDATA_DATABASE_URL=empty_database)

    assert 0 == result.exit_code, result.output
    with psycopg.connect(empty_database) as conn:
        assert (12, 183) == (count(conn, "departments"), count(conn, "jobs"))
    assert {"load_runs", "rejected_rows", "hire_counts"} <= _tables(empty_database)


def test_backup_of_a_database_without_tables_makes_them_and_backs_up_empty_tables(
    run: Invoke, empty_database: str
) -> None:
    result = run("backup", "--json", HRDATA_DATABASE_URL=empty_database)

    assert 0 == result.exit_code, result.output
    rows = {name: entry["rows"] for name, entry in json.loads(result.output)["tables"].items()}
    assert {"departments": 0, "jobs": 0, "hired_employees": 0} == rows


def test_restore_into_a_database_without_tables_makes_them_and_restores_every_row(
    run: Invoke, rows_in: RowsIn, empty_database: str
) -> None:
    assert 0 == run("migrate", str(CHALLENGE), "--quiet").exit_code
    assert 0 == run("backup", "--json").exit_code

    result = run("restore", "--all", "--yes", HRDATA_DATABASE_URL=empty_database)

    assert 0 == result.exit_code, result.output
    with psycopg.connect(empty_database) as conn:
        restored = [count(conn, t) for t in ("departments", "jobs", "hired_employees")]
    assert [rows_in(t) for t in ("departments", "jobs", "hired_employees")] == restored
