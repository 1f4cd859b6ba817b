"""Fixtures: a real PostgreSQL for the whole session (embedded, or HRDATA_DATABASE_URL), and
an empty schema built from the dictionary for every test."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
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
from tests.support.database import count
from tests.support.fixture_types import (
    ApiJob,
    AsRole,
    FinishedJob,
    Invoke,
    JobState,
    MigrateViaApi,
    RowsIn,
)
from tests.support.paths import CHALLENGE


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


@pytest.fixture
def rows_in(db: psycopg.Connection) -> RowsIn:
    """How many rows a table of the test's database holds."""

    return lambda table: count(db, table)


@pytest.fixture
def api(settings: Settings, db: psycopg.Connection) -> Iterator[TestClient]:
    """The API on the test's database, through real HTTP semantics (TestClient)."""
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture
def tokens(db: psycopg.Connection) -> dict[str, str]:
    """One API key per role, as `Authorization` headers."""
    return {role: f"Bearer {create_key(db, role, f'test {role}')[1]}" for role in ROLES}


@pytest.fixture
def as_role(tokens: dict[str, str]) -> AsRole:
    """The headers that sign a request with the key of a role: `headers=as_role("admin")`."""
    return lambda role: {"Authorization": tokens[role]}


@pytest.fixture
def finished_job() -> FinishedJob:
    """Wait for a job to end: `read` returns its state (a JSON object or a `Job`) and is called
    until the job no longer runs; past the deadline the test fails with the job's last state."""

    def wait(read: Callable[[], JobState], seconds: float = 60) -> JobState:
        deadline = time.monotonic() + seconds
        while True:
            job = read()
            status = job["status"] if isinstance(job, dict) else job.status
            if status != "running":
                return job
            if time.monotonic() >= deadline:
                pytest.fail(f"the job is still running after {seconds:g} s: {job}")
            time.sleep(0.05)

    return wait


@pytest.fixture
def api_job(as_role: AsRole, finished_job: FinishedJob) -> ApiJob:
    """The job that `started` (a 202 answer of `api`) began, once it has ended, read from `api`
    at `path`/{job_id}."""

    def wait(api: TestClient, started: httpx.Response, path: str = "/v1/jobs") -> dict[str, Any]:
        assert 202 == started.status_code, started.text
        url = f"{path}/{started.json()['job_id']}"
        return finished_job(lambda: dict(api.get(url, headers=as_role("read")).json()))

    return wait


@pytest.fixture
def migrate_via_api(as_role: AsRole, api_job: ApiJob) -> MigrateViaApi:
    """Start a migration through `api` (`body` is its request) and return its ended job."""

    def migrate(api: TestClient, **body: Any) -> dict[str, Any]:
        started = api.post("/v1/migrations", json=body, headers=as_role("admin"))
        return api_job(api, started, "/v1/migrations")

    return migrate


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


@pytest.fixture
def namesakes(db: psycopg.Connection) -> None:
    """Two departments called Legal (ids 11 and 13) and two jobs called Clerk (1 and 2), put in
    with SQL (migrate and the API refuse such names): Legal 11 hired 3 Clerks 1 in Q1 of 2021,
    Legal 13 2 Clerks 2 in Q2; Other (20) hired nobody. The mean over all is 5/3."""
    db.execute("INSERT INTO departments VALUES (11, 'Legal'), (13, 'Legal'), (20, 'Other')")
    db.execute("INSERT INTO jobs VALUES (1, 'Clerk'), (2, 'Clerk')")
    db.execute(
        """INSERT INTO hired_employees VALUES
        (1, 'a', '2021-01-05T10:00:00Z', 11, 1), (2, 'b', '2021-02-05T10:00:00Z', 11, 1),
        (3, 'c', '2021-03-05T10:00:00Z', 11, 1), (4, 'd', '2021-04-05T10:00:00Z', 13, 2),
        (5, 'e', '2021-05-05T10:00:00Z', 13, 2)"""
    )
