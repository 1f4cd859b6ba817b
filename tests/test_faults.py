"""The service under faults: slow statements, a database that goes away and comes back."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient

from hrdata.api.app import create_app
from hrdata.assembly import init_schema
from hrdata.auth import create_key
from hrdata.db import start_embedded, stop_embedded
from hrdata.settings import Settings
from tests.support.database import count
from tests.support.fixture_types import AsRole, RowsIn
from tests.support.paths import CHALLENGE
from tests.support.servers import start_server, stop


@pytest.fixture
def impatient_api(settings: Settings, db: psycopg.Connection) -> Iterator[TestClient]:
    """The API with a half-second statement timeout."""
    impatient = settings.model_copy(update={"statement_timeout_seconds": 0.5})
    with TestClient(create_app(impatient)) as client:
        yield client


def test_a_request_held_past_the_statement_timeout_is_503_and_writes_nothing(
    impatient_api: TestClient,
    as_role: AsRole,
    db: psycopg.Connection,
    database_url: str,
    rows_in: RowsIn,
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
            headers=as_role("ingest"),
        )

    assert (503, "request_timed_out", "1") == (
        response.status_code,
        response.json()["error"]["type"],
        response.headers.get("retry-after"),
    )
    assert "statement timeout" in response.json()["error"]["message"]
    assert 0 == rows_in("hired_employees")


@dataclass
class Stack:
    """A PostgreSQL of the test's own, and `hrdata serve` on it: both may be stopped."""

    home: Path
    url: str
    base: str
    process: subprocess.Popen[bytes]
    log: Path
    keys: dict[str, str]

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}

    def rows(self) -> int:
        with psycopg.connect(self.url) as conn:
            return count(conn, "hired_employees")


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    home = tmp_path / "own-postgres"
    url = start_embedded(home)
    with psycopg.connect(url, autocommit=True) as conn:
        init_schema(conn)
        conn.execute("INSERT INTO departments VALUES (1, 'Sales')")
        conn.execute("INSERT INTO jobs VALUES (1, 'Clerk')")
        keys = {role: create_key(conn, role, role)[1] for role in ("ingest", "read")}
    settings = Settings(_env_file=None, database_url=url, home=tmp_path / "home")  # type: ignore[call-arg]
    # A connect timeout far past every client timeout below: a request that waited it out
    # while the database is down would fail its test instead of answering 503.
    process, base, log = start_server(
        settings, tmp_path, HRDATA_CONNECT_TIMEOUT_SECONDS="30", HRDATA_POOL_SIZE="4"
    )
    yield Stack(home, url, base, process, log, keys)
    if process.poll() is None:
        stop(process)
    stop_embedded(home)


def batch(first: int, n: int) -> dict[str, Any]:
    return {
        "rows": [
            {
                "id": i,
                "name": f"E{i}",
                "datetime": "2021-01-01T00:00:00Z",
                "department_id": 1,
                "job_id": 1,
            }
            for i in range(first, first + n)
        ]
    }


def wait_until_ready(base: str) -> None:
    deadline = time.monotonic() + 60
    while httpx.get(f"{base}/ready", timeout=5).status_code != 200:
        assert time.monotonic() < deadline, "the service never recovered"
        time.sleep(0.2)


# A bound on each test's requests, far under the stack's 30 s connect timeout.
CLIENT_TIMEOUT = 5.0


@pytest.mark.slow
def test_while_the_database_is_down_requests_get_503_with_retry_after_without_waiting_for_it(
    stack: Stack,
) -> None:
    metrics = f"{stack.base}/v1/metrics/hires-by-quarter"
    assert 200 == httpx.get(metrics, headers=stack.headers("read")).status_code

    stop_embedded(stack.home)
    # The first finds the pool's connections dead; the others come once the service knows.
    down = [
        httpx.get(metrics, headers=stack.headers("read"), timeout=CLIENT_TIMEOUT) for _ in range(3)
    ]
    ready = httpx.get(f"{stack.base}/ready", timeout=CLIENT_TIMEOUT)
    alive = httpx.get(f"{stack.base}/health", timeout=CLIENT_TIMEOUT)

    assert [(503, "database_unavailable", "1")] * 3 == [
        (r.status_code, r.json()["error"]["type"], r.headers.get("retry-after")) for r in down
    ]
    assert "try again" in down[0].json()["error"]["message"]
    assert (503, "unavailable", "1") == (
        ready.status_code,
        ready.json()["database"],
        ready.headers.get("retry-after"),
    )
    assert 200 == alive.status_code


@pytest.mark.slow
def test_once_the_database_is_back_the_service_serves_again_without_a_restart(
    stack: Stack,
) -> None:
    metrics = f"{stack.base}/v1/metrics/hires-by-quarter"
    stop_embedded(stack.home)
    assert (
        503 == httpx.get(metrics, headers=stack.headers("read"), timeout=CLIENT_TIMEOUT).status_code
    )
    assert stack.url == start_embedded(stack.home)

    # Every answer comes within the client's timeout (a wait would raise ReadTimeout here):
    # 503 with Retry-After until the service sees the database again, then 200.
    answers = []
    deadline = time.monotonic() + 60
    while not answers or answers[-1][0] != 200:
        assert time.monotonic() < deadline, f"the service never recovered: {answers[-3:]}"
        response = httpx.get(metrics, headers=stack.headers("read"), timeout=CLIENT_TIMEOUT)
        answers.append((response.status_code, response.headers.get("retry-after")))
        time.sleep(0.05)

    assert {(503, "1"), (200, None)} >= set(answers)
    assert None is stack.process.poll()


@pytest.mark.slow
def test_a_batch_cut_off_by_a_database_restart_is_all_or_nothing_and_its_retry_inserts_once(
    stack: Stack,
) -> None:
    answers: list[httpx.Response] = []
    headers = {**stack.headers("ingest"), "Idempotency-Key": "restart-1"}
    holder = psycopg.connect(stack.url)
    # The batch waits on this lock; the restart then cuts it off mid-transaction.
    holder.execute("LOCK TABLE departments IN ACCESS EXCLUSIVE MODE")
    poster = threading.Thread(
        target=lambda: answers.append(
            httpx.post(
                f"{stack.base}/v1/tables/hired_employees/rows",
                json=batch(1, 500),
                headers=headers,
                timeout=60,
            )
        )
    )
    poster.start()
    wait_for_a_waiting_insert(holder)
    stop_embedded(stack.home)
    poster.join()
    holder.close()
    start_embedded(stack.home)
    wait_until_ready(stack.base)
    after_restart = stack.rows()

    retried = httpx.post(
        f"{stack.base}/v1/tables/hired_employees/rows", json=batch(1, 500), headers=headers
    )
    again = httpx.post(
        f"{stack.base}/v1/tables/hired_employees/rows", json=batch(1, 500), headers=headers
    )

    assert (503, "1") == (answers[0].status_code, answers[0].headers.get("retry-after"))
    assert 0 == after_restart
    assert (200, 500, 200) == (retried.status_code, retried.json()["inserted"], again.status_code)
    assert 500 == stack.rows()


def wait_for_a_waiting_insert(conn: psycopg.Connection) -> None:
    """Until some other session waits on a lock: the batch is mid-transaction."""
    deadline = time.monotonic() + 30
    while not conn.execute(
        "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
    ).fetchone():
        assert time.monotonic() < deadline, "the batch never reached the database"
        time.sleep(0.05)


@pytest.mark.slow
def test_sigterm_lets_a_request_in_flight_finish(stack: Stack) -> None:
    answers: list[httpx.Response] = []
    with psycopg.connect(stack.url) as holder:
        holder.execute("LOCK TABLE departments IN ACCESS EXCLUSIVE MODE")
        poster = threading.Thread(
            target=lambda: answers.append(
                httpx.post(
                    f"{stack.base}/v1/tables/hired_employees/rows",
                    json=batch(1, 100),
                    headers=stack.headers("ingest"),
                    timeout=60,
                )
            )
        )
        poster.start()
        wait_for_a_waiting_insert(holder)
        stack.process.send_signal(signal.SIGTERM)
        time.sleep(0.5)  # the server is shutting down while the request waits
        assert stack.process.poll() is None
    poster.join()
    exit_code = stack.process.wait(timeout=30)

    assert (200, 100) == (answers[0].status_code, answers[0].json()["inserted"])
    assert exit_code in (0, -signal.SIGTERM)  # uvicorn ends by re-raising the signal
    assert 100 == stack.rows()


@pytest.mark.slow
def test_a_job_whose_process_died_reads_as_interrupted_on_another(
    settings: Settings, db: psycopg.Connection, as_role: AsRole, tmp_path: Path
) -> None:
    first, first_url, _ = start_server(settings, tmp_path)
    holder = psycopg.connect(settings.database_url.get_secret_value())  # type: ignore[union-attr]
    try:
        # The migration waits for this lock, so it is still running when its process dies.
        holder.execute("LOCK TABLE departments IN ACCESS EXCLUSIVE MODE")
        started = httpx.post(
            f"{first_url}/v1/migrations",
            json={"sources": [str(CHALLENGE)]},
            headers=as_role("admin"),
        )
        wait_for_a_waiting_insert(holder)
        first.send_signal(signal.SIGKILL)
        first.wait()
    finally:
        holder.close()
    second, second_url, _ = start_server(settings, tmp_path)
    try:
        job = httpx.get(
            f"{second_url}/v1/migrations/{started.json()['job_id']}",
            headers=as_role("read"),
        ).json()
    finally:
        stop(second)

    assert "interrupted" == job["status"]
    assert "start it again" in job["error"]
