"""Schemathesis over the API's own OpenAPI document, on the real app and database: whatever it
sends, no answer is a 5xx, has a status the document does not list, or breaks the schema."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, assume, settings
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import ASGIClient
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from hrdata.api.app import create_app
from hrdata.s3 import is_s3_uri
from hrdata.settings import Settings
from tests.support.fixture_types import AsRole, RowsIn

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
MIGRATIONS = {"method": "POST", "path": "/v1/migrations"}


def load(mode: str) -> schemathesis.BaseSchema:
    """The document, read from an app that is never started (it does not need the database)."""
    document = create_app(Settings(_env_file=None)).openapi()  # type: ignore[call-arg]
    config = schemathesis.Config.from_dict({"generation": {"mode": mode}})
    return schemathesis.openapi.from_dict(document, config=config)


# Valid and invalid requests (bad parameters, bodies, methods...) for the caller with a key.
schema = load("all")
# Only valid requests for the caller without one: an invalid body may be refused before the key.
valid_requests = load("positive")

# Bounded and reproducible: the same cases on every run, in well under a minute.
bounded = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    # The app and its database live as long as the test, shared by the cases of one operation.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@pytest.fixture
def client(api: TestClient, db: psycopg.Connection) -> Iterator[ASGIClient]:
    """Requests straight to the app the `api` fixture started (its lifespan ran, its pool is open).

    The client is never entered, so schemathesis does not run the lifespan a second time. The
    jobs the cases started (backups of the test's tables) end before the next test begins.
    """
    yield ASGIClient(api.app)
    deadline = time.monotonic() + 60
    while running_jobs(db) and time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.fixture
def empty_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Work in an empty folder: a relative source (the document's example, data/challenge)
    names nothing."""
    folder = tmp_path / "empty"
    folder.mkdir()
    monkeypatch.chdir(folder)


def running_jobs(db: psycopg.Connection) -> int:
    row = db.execute("SELECT count(*) FROM background_jobs WHERE status = 'running'").fetchone()
    assert row is not None
    return int(row[0])


def loads_nothing(case: schemathesis.Case) -> bool:
    """True unless a migration of this case's sources could find something to load."""
    sources = case.body.get("sources") if isinstance(case.body, dict) else None
    return not isinstance(sources, list) or not any(
        isinstance(s, str) and (is_s3_uri(s) or os.path.exists(s)) for s in sources
    )


@pytest.mark.slow
@schema.exclude(**MIGRATIONS).parametrize()
@bounded
def test_admin_gets_no_server_error_and_answers_that_match_the_schema(
    case: schemathesis.Case, client: ASGIClient, as_role: AsRole
) -> None:
    case.call_and_validate(session=client, headers=as_role("admin"), checks=CHECKS)


@schema.include(**MIGRATIONS).parametrize()
@bounded
def test_migrations_of_generated_sources_never_start_and_match_the_schema(
    case: schemathesis.Case,
    client: ASGIClient,
    as_role: AsRole,
    rows_in: RowsIn,
    empty_folder: None,
) -> None:
    # Skipped, in every phase, when a source exists or is on S3: no migration ever starts.
    assume(loads_nothing(case))

    case.call_and_validate(session=client, headers=as_role("admin"), checks=CHECKS)

    assert 0 == rows_in("background_jobs")


# Signing out needs no key: it only tells the browser to forget the cookie.
@valid_requests.exclude(path=["/health", "/ready", "/reports/logout"]).parametrize()
@settings(bounded, max_examples=10)
def test_requests_without_a_key_are_401(case: schemathesis.Case, client: ASGIClient) -> None:
    response = case.call_and_validate(session=client, checks=CHECKS)

    assert 401 == response.status_code
