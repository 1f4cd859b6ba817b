"""`hrdata serve` as a real process over a real socket, and its structured logs."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient

from conftest import as_role
from hrdata.api.logs import JsonFormatter
from hrdata.settings import Settings


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def server(
    settings: Settings, db: psycopg.Connection, tmp_path: Path
) -> Iterator[tuple[str, Path]]:
    assert settings.database_url is not None
    port = free_port()
    log = tmp_path / "serve.log"
    env = {
        **os.environ,
        "HRDATA_DATABASE_URL": settings.database_url.get_secret_value(),
        "HRDATA_HOME": str(settings.home),
    }
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "hrdata", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/ready").status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, "the server never became ready"
        time.sleep(0.1)
    yield url, log
    process.terminate()
    process.wait(timeout=10)


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
