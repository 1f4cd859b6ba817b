"""Two `hrdata serve` processes on one database agree on everything: nothing shared lives in a
process's memory."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psycopg
import pytest

from hrdata.auth import create_key, revoke_key
from hrdata.settings import Settings
from tests.support.fixture_types import AsRole, FinishedJob, RowsIn
from tests.support.paths import CHALLENGE
from tests.support.servers import start_server, stop

# Every test runs two real `hrdata serve` processes: seconds each.
pytestmark = pytest.mark.slow


@pytest.fixture
def services(settings: Settings, db: psycopg.Connection, tmp_path: Path) -> Iterator[list[str]]:
    started = [start_server(settings, tmp_path) for _ in range(2)]
    yield [url for _, url, _ in started]
    for process, _, _ in started:
        stop(process)


def test_one_idempotency_key_sent_to_both_at_once_inserts_once(
    services: list[str], as_role: AsRole, rows_in: RowsIn
) -> None:
    headers = {**as_role("ingest"), "Idempotency-Key": "both-services"}
    body = {"rows": [{"id": i, "department": f"D{i}"} for i in range(1, 1001)]}

    with ThreadPoolExecutor(8) as pool:
        answers = list(
            pool.map(
                lambda i: httpx.post(
                    f"{services[i % 2]}/v1/tables/departments/rows", json=body, headers=headers
                ),
                range(8),
            )
        )

    assert [200] * 8 == [a.status_code for a in answers]
    assert {1000} == {a.json()["inserted"] for a in answers}
    assert 1000 == rows_in("departments")


def test_a_job_started_on_one_is_followed_on_the_other(
    services: list[str], as_role: AsRole, db: psycopg.Connection, finished_job: FinishedJob
) -> None:
    started = httpx.post(
        f"{services[0]}/v1/migrations",
        json={"sources": [str(CHALLENGE)]},
        headers=as_role("admin"),
    )
    assert 202 == started.status_code, started.text
    job = f"{services[1]}/v1/migrations/{started.json()['job_id']}"

    answer = finished_job(lambda: dict(httpx.get(job, headers=as_role("read")).json()))

    assert "succeeded" == answer["status"]
    assert 1930 == answer["result"]["tables"]["hired_employees"]["inserted"]


def test_a_key_revoked_through_one_is_refused_by_the_other_at_once(
    services: list[str], db: psycopg.Connection
) -> None:
    caller, token = create_key(db, "read", "short-lived")
    headers = {"Authorization": f"Bearer {token}"}
    assert [200, 200] == [httpx.get(f"{u}/v1/me", headers=headers).status_code for u in services]

    revoke_key(db, caller.key_id)

    assert [401, 401] == [httpx.get(f"{u}/v1/me", headers=headers).status_code for u in services]


def test_the_metrics_agree_on_both_while_one_takes_rows(
    services: list[str], as_role: AsRole, db: psycopg.Connection
) -> None:
    db.execute("INSERT INTO departments VALUES (1, 'Sales')")
    db.execute("INSERT INTO jobs VALUES (1, 'Clerk')")
    rows = [
        {
            "id": i,
            "name": f"E{i}",
            "datetime": "2021-08-01T00:00:00Z",
            "department_id": 1,
            "job_id": 1,
        }
        for i in range(1, 301)
    ]

    posted = httpx.post(
        f"{services[0]}/v1/tables/hired_employees/rows",
        json={"rows": rows},
        headers=as_role("ingest"),
    )
    answers = [
        httpx.get(f"{u}/v1/metrics/hires-by-quarter", headers=as_role("read")).json()
        for u in services
    ]

    assert 300 == posted.json()["inserted"]
    assert answers[0]["rows"] == answers[1]["rows"]
    assert [0, 0, 300, 0] == [answers[1]["rows"][0][q] for q in ("Q1", "Q2", "Q3", "Q4")]
