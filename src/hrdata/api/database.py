"""The API process's database: a connection pool, and whether the database answers.

psycopg_pool retries a lost connection after 1, 2, 4, 8 s and makes every request wait for a
connection meanwhile: a request then hangs for the whole connect timeout while the database is
down, and the first after its return may wait for the next retry. Here the pool gives up at
once and tells `Database`, which refuses requests straight away (503 with Retry-After) while a
prober of its own tries the database every PROBE_SECONDS and lets requests in again as soon as
it answers.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from hrdata.errors import DatabaseUnavailable
from hrdata.settings import Settings

log = logging.getLogger("hrdata.api")

PROBE_SECONDS = 0.25  # how soon an unreachable database is tried again
# How long a request waits for a pooled connection before it looks again whether the database
# has been found unreachable meanwhile: a request already waiting then gives up within this.
WAIT_SLICE_SECONDS = 0.25
UNAVAILABLE = "the database is unavailable; try again shortly"


class Database:
    """The connection pool of one API process, refusing requests at once while it is down."""

    def __init__(self, url: str, settings: Settings) -> None:
        self._url = url
        self._connect_timeout = settings.connect_timeout_seconds
        self._up = threading.Event()
        self._up.set()
        self._stop = threading.Event()
        self.pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            url,
            min_size=1,
            max_size=settings.pool_size,
            timeout=settings.connect_timeout_seconds,
            kwargs={
                "application_name": "hrdata-api",
                "connect_timeout": settings.connect_timeout_seconds,
                # Bounds every request's statements (lock waits included), in milliseconds.
                "options": f"-c statement_timeout={int(settings.statement_timeout_seconds * 1000)}",
            },
            check=ConnectionPool.check_connection,
            # A connection that cannot be made is tried once more at once, then given up and
            # reported: the prober retries on a short period instead of the pool's backoff.
            reconnect_timeout=0,
            reconnect_failed=lambda _: self.lost(),
            open=False,
        )
        self._prober = threading.Thread(target=self._probe, name="hrdata-db-probe", daemon=True)

    def open(self) -> None:
        """Start connecting (without waiting for the database) and probing."""
        self.pool.open(wait=False)
        self._prober.start()

    def close(self) -> None:
        self._stop.set()
        if self._prober.is_alive():
            self._prober.join()
        self.pool.close()

    @property
    def up(self) -> bool:
        """False from a failed connection attempt until the prober reaches the database."""
        return self._up.is_set()

    def lost(self) -> None:
        """The database could not be reached: refuse requests until the prober reaches it."""
        if self._up.is_set():
            self._up.clear()
            log.warning("database unreachable; requests get 503 until it answers again")

    @contextmanager
    def connection(self, timeout: float | None = None) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection within `timeout` (default: the connect timeout).

        Raises DatabaseUnavailable when none comes in time, and at once while the database is down.
        """
        conn = self._get(self._connect_timeout if timeout is None else timeout)
        try:
            with conn:  # commits, or rolls back on an exception; a pooled one stays open
                yield conn
        finally:
            self.pool.putconn(conn)

    def _get(self, timeout: float) -> psycopg.Connection[Any]:
        deadline = time.monotonic() + timeout
        while self._up.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                return self.pool.getconn(timeout=min(left, WAIT_SLICE_SECONDS))
            except PoolTimeout:
                continue
        raise DatabaseUnavailable(UNAVAILABLE)

    def _probe(self) -> None:
        while not self._stop.wait(PROBE_SECONDS):
            if self._up.is_set():
                continue
            try:
                with psycopg.connect(
                    self._url,
                    connect_timeout=self._connect_timeout,
                    application_name="hrdata-api-probe",
                ) as conn:
                    conn.execute("SELECT 1")
            except psycopg.Error:
                continue
            # Connections made before the outage are dead: replace them now, so that the first
            # requests do not each find one and wait for the pool's check backoff.
            self.pool.check()
            self._up.set()
            log.info("database reachable again; serving requests")
