"""The API under uvicorn, in one process or several: told once it listens, and on the embedded
database, that database stopped when the service stops."""

from __future__ import annotations

import signal
import socket
import sys
import threading
import urllib.request
from collections.abc import Callable
from types import FrameType

import uvicorn

from hrdata.db import database_url, stop_embedded
from hrdata.settings import Settings

# What uvicorn.run exits with when the server never started (the port is taken...).
STARTUP_FAILURE = 3


def base_url(host: str, port: int) -> str:
    """The address to give people for a server on host:port; any-address means this machine."""
    reachable = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
    return f"http://[{reachable}]:{port}" if ":" in reachable else f"http://{reachable}:{port}"


def serve(
    settings: Settings, host: str, port: int, workers: int, on_listening: Callable[[str], None]
) -> None:
    """Serve until Ctrl-C or SIGTERM; call `on_listening(base_url)` once connections are taken.

    On the embedded database (no URL configured) the server is stopped on the way out.
    """
    embedded = settings.database_url is None
    # SIGTERM's default would end the process before the `finally` below; uvicorn still
    # handles it first (graceful shutdown), then raises it again, which lands here.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        if workers == 1:
            _serve_one(settings, host, port, on_listening)
        else:
            _serve_several(settings, host, port, workers, on_listening)
    except KeyboardInterrupt:
        pass  # uvicorn raises the Ctrl-C it handled again, once it has shut down
    finally:
        signal.signal(signal.SIGTERM, previous)
        if embedded:
            stop_embedded(settings.home)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


class _Server(uvicorn.Server):
    """uvicorn's server, calling back once its socket listens (the lifespan runs before that)."""

    def __init__(self, config: uvicorn.Config, on_listening: Callable[[str], None]) -> None:
        super().__init__(config)
        self._on_listening = on_listening

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and not self.should_exit:
            bound: int = self.servers[0].sockets[0].getsockname()[1]  # the real one for port 0
            self._on_listening(base_url(self.config.host, bound))


def _serve_one(
    settings: Settings, host: str, port: int, on_listening: Callable[[str], None]
) -> None:
    from hrdata.api.app import create_app

    config = uvicorn.Config(
        create_app(settings), host=host, port=port, log_config=None, access_log=False
    )
    server = _Server(config, on_listening)
    server.run()
    if not server.started:
        sys.exit(STARTUP_FAILURE)


def _serve_several(
    settings: Settings,
    host: str,
    port: int,
    workers: int,
    on_listening: Callable[[str], None],
) -> None:
    import os

    # Start the embedded server (if any) once, here; the workers connect to its URL.
    os.environ["HRDATA_DATABASE_URL"] = database_url(settings)
    # The workers run uvicorn's own server, so nothing in them can call back: ask the service
    # itself, from here, until it answers.
    stopped = threading.Event()
    watcher = threading.Thread(
        target=_announce_when_answering,
        args=(base_url(host, port), on_listening, stopped),
        name="hrdata-announce",
        daemon=True,
    )
    watcher.start()
    try:
        uvicorn.run(
            "hrdata.api.app:app_from_environment",
            factory=True,
            workers=workers,
            host=host,
            port=port,
            log_config=None,
            access_log=False,
        )
    finally:
        stopped.set()


def _announce_when_answering(
    url: str, on_listening: Callable[[str], None], stopped: threading.Event
) -> None:
    while not stopped.wait(0.1):
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=1) as answer:
                if answer.status == 200:
                    on_listening(url)
                    return
        except OSError:
            continue  # not listening yet
