"""The service under faults: slow statements, a database that goes away and comes back."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient

from conftest import as_role, count
from hrdata.api.app import create_app
from hrdata.settings import Settings


@pytest.fixture
def impatient_api(settings: Settings, db: psycopg.Connection) -> Iterator[TestClient]:
    """The API with a half-second statement timeout."""
    impatient = settings.model_copy(update={"statement_timeout_seconds": 0.5})
    with TestClient(create_app(impatient)) as client:
        yield client


def test_a_request_held_past_the_statement_timeout_is_503_and_writes_nothing(
    impatient_api: TestClient, tokens: dict[str, str], db: psycopg.Connection, database_url: str
) -> None:
    db.execute("INSERT INTO departments VALUES (1, 'Sales')")
    db.execute("INSERT INTO jobs VALUES (1, 'Clerk')")
    row = {
        "id": 1,
        "name": "A",
        "datetime": "2021-01-01T00:00:00Z",
        "department_id": 1,
        "job_id": 1,
    }
    with psycopg.connect(database_url) as holder:
        holder.execute("LOCK TABLE departments IN ACCESS EXCLUSIVE MODE")

        response = impatient_api.post(
            "/v1/tables/hired_employees/rows",
            json={"rows": [row]},
            headers=as_role(tokens, "ingest"),
        )

    assert (503, "request_timed_out") == (response.status_code, response.json()["error"]["type"])
    assert "statement timeout" in response.json()["error"]["message"]
    assert 0 == count(db, "hired_employees")
