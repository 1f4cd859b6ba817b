"""A real `hrdata serve` process on a free port, for tests that need one over a real socket."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from hrdata.settings import Settings


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_server(
    settings: Settings, folder: Path, *args: str, **env: str
) -> tuple[subprocess.Popen[bytes], str, Path]:
    """`hrdata serve` on a free port, once it is ready: (process, base URL, its log file).

    `env` adds variables (HRDATA_CONNECT_TIMEOUT_SECONDS="2", ...) to the server's environment.
    """
    assert settings.database_url is not None
    port = free_port()
    log = folder / f"serve-{port}.log"  # its logs (stderr): JSON lines only
    env = {
        **os.environ,
        "HRDATA_DATABASE_URL": settings.database_url.get_secret_value(),
        "HRDATA_HOME": str(settings.home),
        "HRDATA_SOURCE_ROOTS": json.dumps(settings.source_roots),
        **env,
    }
    with log.open("w") as err, (folder / f"serve-{port}.out").open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "hrdata", "serve", "--port", str(port), *args],
            env=env,
            stdout=out,
            stderr=err,
            cwd=folder,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/ready").status_code == 200:
                return process, url, log
        except httpx.TransportError:
            pass
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, "the server never became ready"
        time.sleep(0.1)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(timeout=20)
