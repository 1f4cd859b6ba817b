"""`hrdata serve` as a real process over a real socket, and its structured logs."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psutil
import psycopg
import pytest
from fastapi.testclient import TestClient

from conftest import as_role, count
from hrdata.api.logs import JsonFormatter
from hrdata.settings import Settings
from servers import start_server, stop


@pytest.fixture
def server(
    settings: Settings, db: psycopg.Connection, tmp_path: Path
) -> Iterator[tuple[str, Path]]:
    process, url, log = start_server(settings, tmp_path)
    yield url, log
    stop(process)


def test_serve_takes_a_batch_over_a_real_socket(
    server: tuple[str, Path], tokens: dict[str, str], db: psycopg.Connection
) -> None:
    url, _ = server

    response = httpx.post(
        f"{url}/v1/tables/departments/rows",
        json={"rows": [{"id": 1, "department": "Sales"}]},
        headers=as_role(tokens, "ingest"),
    )

    assert (200, 1) == (response.status_code, response.json()["inserted"])


def test_serve_logs_one_json_object_per_line_with_the_request_id(server: tuple[str, Path]) -> None:
    url, log = server

    response = httpx.get(f"{url}/health", headers={"X-Request-ID": "trace-77"})
    time.sleep(0.2)

    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert "trace-77" == response.headers["X-Request-ID"]
    assert [("request", "/health", 200)] == [
        (e["event"], e["path"], e["status"]) for e in lines if e.get("request_id") == "trace-77"
    ]


def test_api_key_never_appears_in_the_logs(
    api: TestClient, tokens: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)

    api.get("/v1/dictionary", headers=as_role(tokens, "admin"))

    formatted = "\n".join(JsonFormatter().format(record) for record in caplog.records)
    assert "request" in formatted and tokens["admin"].split()[1] not in formatted


def test_several_workers_serve_and_agree_on_an_idempotency_key(
    settings: Settings, db: psycopg.Connection, tokens: dict[str, str], tmp_path: Path
) -> None:
    process, url, _ = start_server(settings, tmp_path, "--workers", "2")
    try:
        workers = psutil.Process(process.pid).children(recursive=True)
        headers = {**as_role(tokens, "ingest"), "Idempotency-Key": "same-everywhere"}
        body = {"rows": [{"id": i, "department": f"D{i}"} for i in range(1, 501)]}
        with ThreadPoolExecutor(8) as pool:
            answers = list(
                pool.map(
                    lambda _: httpx.post(
                        f"{url}/v1/tables/departments/rows", json=body, headers=headers
                    ),
                    range(8),
                )
            )
    finally:
        stop(process)

    assert 2 <= len(workers)
    assert [200] * 8 == [a.status_code for a in answers]
    assert 1 == len({a.json()["request_id"] for a in answers})
    assert 500 == count(db, "departments")
