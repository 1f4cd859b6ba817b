"""`hrdata serve` as a real process over a real socket, and its structured logs."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil
import psycopg
import pytest
from fastapi.testclient import TestClient

from hrdata.api.logs import JsonFormatter
from hrdata.settings import Settings
from tests.support.fixture_types import AsRole, RowsIn
from tests.support.servers import free_port, start_server, stop


@pytest.fixture
def server(
    settings: Settings, db: psycopg.Connection, tmp_path: Path
) -> Iterator[tuple[str, Path]]:
    process, url, log = start_server(settings, tmp_path)
    yield url, log
    stop(process)


@pytest.mark.slow
def test_serve_takes_a_batch_over_a_real_socket(
    server: tuple[str, Path], as_role: AsRole, db: psycopg.Connection
) -> None:
    url, _ = server

    response = httpx.post(
        f"{url}/v1/tables/departments/rows",
        json={"rows": [{"id": 1, "department": "Sales"}]},
        headers=as_role("ingest"),
    )

    assert (200, 1) == (response.status_code, response.json()["inserted"])


@pytest.mark.slow
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
    api: TestClient, tokens: dict[str, str], caplog: pytest.LogCaptureFixture, as_role: AsRole
) -> None:
    caplog.set_level(logging.INFO)

    api.get("/v1/dictionary", headers=as_role("admin"))

    formatted = "\n".join(JsonFormatter().format(record) for record in caplog.records)
    assert "request" in formatted and tokens["admin"].split()[1] not in formatted


@pytest.mark.slow
def test_several_workers_serve_and_agree_on_an_idempotency_key(
    settings: Settings, rows_in: RowsIn, as_role: AsRole, tmp_path: Path
) -> None:
    process, url, _ = start_server(settings, tmp_path, "--workers", "2")
    try:
        workers = psutil.Process(process.pid).children(recursive=True)
        headers = {**as_role("ingest"), "Idempotency-Key": "same-everywhere"}
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
    assert 500 == rows_in("departments")


@contextmanager
def serving(
    port: int, environment: dict[str, str], folder: Path, *args: str
) -> Iterator[subprocess.Popen[str]]:
    """`hrdata serve` on `port`, its stdout a pipe (its logs dropped); killed if still running."""
    process = subprocess.Popen(
        [sys.executable, "-m", "hrdata", "serve", "--port", str(port), *args],
        env=environment,
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def first_line(process: subprocess.Popen[str], seconds: float = 60) -> str:
    """The first line `process` prints; after `seconds` without one it is killed ("")."""
    assert process.stdout is not None
    with ThreadPoolExecutor(1) as pool:
        reading = pool.submit(process.stdout.readline)
        try:
            return reading.result(timeout=seconds)
        except TimeoutError:
            process.kill()
            return reading.result()


@pytest.mark.slow
@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_prints_one_line_with_its_urls_and_the_key_command_once_it_listens(
    settings: Settings, db: psycopg.Connection, tmp_path: Path, workers: str
) -> None:
    assert settings.database_url is not None
    port = free_port()
    environment = {**os.environ, "HRDATA_DATABASE_URL": settings.database_url.get_secret_value()}
    with serving(port, environment, tmp_path, "--workers", workers) as process:
        line = first_line(process)
        answered = httpx.get(f"http://127.0.0.1:{port}/health").status_code  # no retry: up
        process.send_signal(signal.SIGINT)
        rest = process.communicate(timeout=30)[0]

    url = f"http://127.0.0.1:{port}"
    assert 200 == answered
    assert (
        f"hrdata is serving {url} (API docs: {url}/docs, report: {url}/reports); "
        f"create a key with: python -m hrdata keys create --role admin --name me\n"
    ) == line
    assert "" == rest


@pytest.mark.slow
@pytest.mark.parametrize("stop_with", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_serve_on_the_embedded_database_stops_it_when_stopped(
    tmp_path: Path, stop_with: signal.Signals
) -> None:
    home = tmp_path / "home"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("HRDATA_")}
    environment["HRDATA_HOME"] = str(home)
    hrdata = [sys.executable, "-m", "hrdata"]
    # As `make run` does: an earlier command starts the embedded server, serve finds it running.
    subprocess.run([*hrdata, "db", "url"], env=environment, check=True, capture_output=True)
    pid_file = home / "pgdata" / "postmaster.pid"
    postmaster = psutil.Process(int(pid_file.read_text().split()[0]))
    try:
        with serving(free_port(), environment, tmp_path) as process:
            assert "hrdata is serving" in first_line(process)

            process.send_signal(stop_with)  # SIGINT is what Ctrl-C in `make run` sends
            process.wait(timeout=60)
    finally:
        subprocess.run([*hrdata, "db", "stop"], env=environment, capture_output=True)

    assert 0 == process.returncode
    assert not pid_file.exists()
    assert not postmaster.is_running() or postmaster.status() == psutil.STATUS_ZOMBIE


@pytest.mark.slow
def test_db_stop_prints_no_warning_where_xdg_runtime_dir_is_unset(tmp_path: Path) -> None:
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("HRDATA_", "XDG_RUNTIME_DIR"))
    }
    environment["HRDATA_HOME"] = str(tmp_path / "home")
    hrdata = [sys.executable, "-m", "hrdata", "db"]
    subprocess.run([*hrdata, "url"], env=environment, cwd=tmp_path, check=True, capture_output=True)

    stopped = subprocess.run(
        [*hrdata, "stop"], env=environment, cwd=tmp_path, capture_output=True, text=True
    )

    assert ("embedded server stopped\n", "", 0) == (
        stopped.stdout,
        stopped.stderr,
        stopped.returncode,
    )


def test_the_root_sends_a_browser_to_the_api_docs(api: TestClient) -> None:
    answer = api.get("/", follow_redirects=False)

    assert (307, "/docs") == (answer.status_code, answer.headers["location"])
    assert "/" not in api.get("/openapi.json").json()["paths"]
