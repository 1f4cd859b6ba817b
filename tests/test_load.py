"""Eight clients post batches with retries for a bounded time: the table ends with exactly the
rows the clients were told were inserted, each once."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from hrdata.settings import Settings
from tests.support.fixture_types import AsRole
from tests.support.servers import start_server, stop

# Clients post against a real server for a bounded time: seconds.
pytestmark = pytest.mark.slow

CLIENTS = 8
SECONDS = 4.0
ROWS_PER_BATCH = 200


@dataclass
class Tally:
    """What one client sent and was told."""

    batches: int = 0
    retries: int = 0
    lost_answers: int = 0
    inserted: int = 0
    ids: set[int] = field(default_factory=set)


@pytest.fixture
def service(settings: Settings, db: psycopg.Connection, tmp_path: Path) -> Iterator[str]:
    db.execute("INSERT INTO departments SELECT i, 'D' || i FROM generate_series(1, 5) i")
    db.execute("INSERT INTO jobs SELECT i, 'J' || i FROM generate_series(1, 5) i")
    process, url, _ = start_server(settings, tmp_path, "--workers", "2")
    yield url
    stop(process)


def rows(client: int, batch: int, rng: random.Random) -> list[dict[str, Any]]:
    """Mostly new valid rows; some invalid ones, and some ids of this client's last batch."""
    first = (client * 100_000) + batch * ROWS_PER_BATCH + 1
    out = []
    for i in range(first, first + ROWS_PER_BATCH):
        row = {
            "id": i,
            "name": f"E{i}",
            "datetime": "2021-06-01T00:00:00Z",
            "department_id": rng.randint(1, 5),
            "job_id": rng.randint(1, 5),
        }
        if rng.random() < 0.05:
            row["department_id"] = 99  # unknown reference: rejected
        out.append(row)
    if batch:
        out[0] = {**out[0], "id": first - 1}  # already stored, other values: a conflict
    return out


def client(url: str, headers: dict[str, str], number: int, stop_at: float, tally: Tally) -> None:
    rng = random.Random(number)
    with httpx.Client(base_url=url, headers=headers) as http:
        batch = 0
        while time.monotonic() < stop_at:
            body = {"rows": rows(number, batch, rng)}
            key = {"Idempotency-Key": f"client-{number}-batch-{batch}"}
            answer = None
            while answer is None:
                # A short timeout now and then: the answer is lost, the batch may have landed.
                timeout = 0.005 if rng.random() < 0.2 else 30.0
                try:
                    response = http.post(
                        "/v1/tables/hired_employees/rows", json=body, headers=key, timeout=timeout
                    )
                except httpx.TimeoutException:
                    tally.lost_answers += 1
                    tally.retries += 1
                    continue
                assert 200 == response.status_code, response.text
                answer = response.json()
            rejected = {r["index"] for r in answer["rejected"]}
            tally.ids |= {r["id"] for i, r in enumerate(body["rows"]) if i not in rejected}
            tally.inserted += answer["inserted"]
            tally.batches += 1
            batch += 1


def test_concurrent_clients_with_retries_end_with_exactly_the_rows_they_were_told(
    service: str, as_role: AsRole, db: psycopg.Connection
) -> None:
    tallies = [Tally() for _ in range(CLIENTS)]
    stop_at = time.monotonic() + SECONDS
    threads = [
        threading.Thread(target=client, args=(service, as_role("ingest"), n, stop_at, tallies[n]))
        for n in range(CLIENTS)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    stored = {row[0] for row in db.execute("SELECT id FROM hired_employees")}
    told = sum(t.inserted for t in tallies)
    assert all(t.batches > 0 for t in tallies)
    assert sum(t.lost_answers for t in tallies) > 0  # the retry path was exercised
    assert told == len(stored)
    assert set().union(*(t.ids for t in tallies)) == stored
