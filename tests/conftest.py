"""Fixtures: a real PostgreSQL for the whole session (embedded, or HRDATA_DATABASE_URL), and
an empty schema built from the dictionary for every test."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner, Result
from fastapi.testclient import TestClient
from psycopg import sql
from psycopg.conninfo import make_conninfo

from hrdata.api.app import create_app
from hrdata.assembly import feature_table_names, init_schema
from hrdata.auth import ROLES, create_key
from hrdata.cli import cli
from hrdata.db import start_embedded, stop_embedded
from hrdata.dictionary import TABLES
from hrdata.metrics import counts
from hrdata.settings import Settings

Invoke = Callable[..., Result]
CHALLENGE = Path(__file__).resolve().parents[1] / "data" / "challenge"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database of its own for this test session, on the external or the embedded server."""
    external = os.environ.get("HRDATA_DATABASE_URL")
    if not external:
        home = tmp_path_factory.mktemp("embedded")
        url = start_embedded(home)
        yield url
        stop_embedded(home)
        return
    name = f"hrdata_test_{secrets.token_hex(4)}"
    with psycopg.connect(external, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield make_conninfo(external, dbname=name)
    with psycopg.connect(external, autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Settings for one test: the session's database, a home folder of the test's own, and the
    repository's data folder (whatever the working directory) and S3 as the source roots."""
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=database_url,
        home=tmp_path / "home",
        source_roots=[str(CHALLENGE.parent), "s3://"],
    )


@pytest.fixture
def db(settings: Settings, database_url: str) -> Iterator[psycopg.Connection]:
    """A connection to an empty schema, freshly built from the dictionary."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        init_schema(conn)
        # The hire counts are kept by triggers on hired_employees: its truncation resets them.
        kept_by_triggers = set(counts.DDL)
        names = [t.name for t in TABLES]
        names += [name for name in feature_table_names() if name not in kept_by_triggers]
        conn.execute(
            sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(
                sql.SQL(", ").join(map(sql.Identifier, names))
            )
        )
        yield conn


def count(conn: psycopg.Connection, table: str) -> int:
    row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()
    assert row is not None
    return int(row[0])


@pytest.fixture
def api(settings: Settings, db: psycopg.Connection) -> Iterator[TestClient]:
    """The API on the test's database, through real HTTP semantics (TestClient)."""
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture
def tokens(db: psycopg.Connection) -> dict[str, str]:
    """One API key per role, as `Authorization` headers."""
    return {role: f"Bearer {create_key(db, role, f'test {role}')[1]}" for role in ROLES}


def as_role(tokens: dict[str, str], role: str) -> dict[str, str]:
    return {"Authorization": tokens[role]}


@pytest.fixture
def run(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    """Invoke the CLI with the test's settings in the environment and no .env file around."""
    monkeypatch.chdir(tmp_path)
    assert settings.database_url is not None
    env = {
        "HRDATA_DATABASE_URL": settings.database_url.get_secret_value(),
        "HRDATA_HOME": str(settings.home),
    }

    def invoke(*args: str, **extra_env: str) -> Result:
        return CliRunner().invoke(cli, list(args), env={**env, **extra_env})

    return invoke


def insert_namesakes(conn: psycopg.Connection) -> None:
    """Two departments called Legal (ids 11 and 13) and two jobs called Clerk (1 and 2), put in
    with SQL (migrate and the API refuse such names): Legal 11 hired 3 Clerks 1 in Q1 of 2021,
    Legal 13 2 Clerks 2 in Q2; Other (20) hired nobody. The mean over all is 5/3."""
    conn.execute("INSERT INTO departments VALUES (11, 'Legal'), (13, 'Legal'), (20, 'Other')")
    conn.execute("INSERT INTO jobs VALUES (1, 'Clerk'), (2, 'Clerk')")
    conn.execute(
        """INSERT INTO hired_employees VALUES
        (1, 'a', '2021-01-05T10:00:00Z', 11, 1), (2, 'b', '2021-02-05T10:00:00Z', 11, 1),
        (3, 'c', '2021-03-05T10:00:00Z', 11, 1), (4, 'd', '2021-04-05T10:00:00Z', 13, 2),
        (5, 'e', '2021-05-05T10:00:00Z', 13, 2)"""
    )
