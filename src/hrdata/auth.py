"""API keys: create, list and revoke them, and turn a presented token into the Caller it stands for.

A token is `hrd_<key id>_<secret>`. Only a salted scrypt hash of the secret is stored, so a copy
of the database is not a copy of the keys.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import math
import os
import re
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row

from hrdata.errors import Forbidden, InvalidArgument, NotAuthenticated, TooManyFailures
from hrdata.settings import Settings

log = logging.getLogger(__name__)

ROLES = ("ingest", "read", "admin")
DDL: dict[str, tuple[str, ...]] = {
    "api_keys": (
        """CREATE TABLE IF NOT EXISTS api_keys (
        key_id text PRIMARY KEY,
        name text NOT NULL,
        role text NOT NULL CHECK (role IN ('ingest', 'read', 'admin')),
        secret_hash text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz
    )""",
    ),
}
NAME_MAX_LENGTH = 200
CACHE_SIZE = 1024
CACHE_SECONDS = 60.0
FAILURE_LIMIT = 20
FAILURE_WINDOW_SECONDS = 60.0
THROTTLED_ADDRESSES = 10_000

# The key id is hex, so it cannot hold the underscore that separates it from the secret; the
# secret is url-safe base64 and may. Bounding its length keeps scrypt's input small.
_TOKEN = re.compile(r"hrd_([0-9a-f]{12})_([A-Za-z0-9_-]{32,128})")
# Parameters are stored with every hash, so raising them later leaves existing keys valid.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P, _SCRYPT_DKLEN = 2**14, 8, 1, 32
_SALT_BYTES = 16
# A well-formed hash no secret matches (its digest is zeros), checked when the key id is
# unknown so that a guess costs, and takes, what a wrong secret does.
_DUMMY_HASH = "$".join(
    (
        "scrypt",
        str(_SCRYPT_N),
        str(_SCRYPT_R),
        str(_SCRYPT_P),
        base64.b64encode(bytes(_SALT_BYTES)).decode(),
        base64.b64encode(bytes(_SCRYPT_DKLEN)).decode(),
    )
)


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling: the key that authenticated the request, its name and its role."""

    key_id: str
    name: str
    role: str

    def allows(self, role: str) -> bool:
        """True when this caller may act as `role`: admin may do everything, others their own."""
        return self.role == "admin" or self.role == role


class TokenCache:
    """A bounded LRU of tokens whose secret matched, each for `seconds`: sha256 of the token ->
    the hash it matched and when that stops counting.

    Keeping the stored hash means a token only hits while its key's row is unchanged.
    """

    def __init__(
        self,
        capacity: int = CACHE_SIZE,
        seconds: float = CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.capacity = capacity
        self.seconds = seconds
        self._clock = clock
        self._entries: OrderedDict[bytes, tuple[str, float]] = OrderedDict()
        # Requests are served from several threads; OrderedDict moves are not atomic.
        self._lock = threading.Lock()

    def matches(self, token: str, secret_hash: str) -> bool:
        """True when `token` was verified against this very `secret_hash`, recently enough.

        An entry for another hash, or past its time, is dropped.
        """
        key = token_digest(token)
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return False
            if found[0] != secret_hash or self._clock() >= found[1]:
                del self._entries[key]
                return False
            self._entries.move_to_end(key)
            return True

    def remember(self, token: str, secret_hash: str) -> None:
        """Record that `token` matched `secret_hash`, dropping the least recently used entry."""
        if self.seconds <= 0:
            return
        key = token_digest(token)
        with self._lock:
            self._entries[key] = (secret_hash, self._clock() + self.seconds)
            self._entries.move_to_end(key)
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)

    def forget(self, token: str) -> None:
        """Drop `token`'s entry, if any (its key was revoked)."""
        with self._lock:
            self._entries.pop(token_digest(token), None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


class FailureThrottle:
    """Failed key checks per client address in a sliding window; at `limit`, TooManyFailures."""

    def __init__(
        self,
        limit: int = FAILURE_LIMIT,
        window_seconds: float = FAILURE_WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        addresses: int = THROTTLED_ADDRESSES,
    ) -> None:
        self.limit = limit
        self.window_seconds = window_seconds
        self._clock = clock
        self._addresses = addresses
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def check(self, address: str) -> None:
        """Raise TooManyFailures while `address` has `limit` failures in the window."""
        now = self._clock()
        with self._lock:
            failures = self._failures.get(address)
            if failures is None:
                return
            while failures and failures[0] <= now - self.window_seconds:
                failures.popleft()
            if not failures:
                del self._failures[address]
            elif len(failures) >= self.limit:
                raise TooManyFailures(max(1, math.ceil(failures[0] + self.window_seconds - now)))

    def failed(self, address: str) -> None:
        """Count one failed key check from `address`."""
        with self._lock:
            failures = self._failures.setdefault(address, deque(maxlen=self.limit))
            failures.append(self._clock())
            self._failures.move_to_end(address)
            # Bounded memory: the addresses that failed longest ago are forgotten first.
            while len(self._failures) > self._addresses:
                self._failures.popitem(last=False)


class Authenticator:
    """Turns tokens into Callers for one process: scrypt for every key id, at most
    `concurrency` at once, successes cached, failures throttled per client address."""

    def __init__(
        self,
        concurrency: int | None = None,
        cache_seconds: float = CACHE_SECONDS,
        failure_limit: int = FAILURE_LIMIT,
        failure_window_seconds: float = FAILURE_WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.concurrency = concurrency or os.cpu_count() or 1
        self.cache = TokenCache(seconds=cache_seconds, clock=clock)
        self.throttle = FailureThrottle(failure_limit, failure_window_seconds, clock)
        # Each scrypt keeps a core busy for tens of milliseconds (outside the GIL): a flood of
        # guesses must not take every core from the requests whose key is cached.
        self._slots = threading.BoundedSemaphore(self.concurrency)
        self._count_lock = threading.Lock()
        self._running = 0
        self.scrypt_runs = 0  # counted, so tests and operators see the work done, not its time
        self.scrypt_peak = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> Authenticator:
        return cls(
            settings.auth_scrypt_concurrency,
            settings.auth_cache_seconds,
            settings.auth_failure_limit,
            settings.auth_failure_window_seconds,
        )

    def authenticate(
        self, conn: psycopg.Connection[Any], token: str | None, address: str | None = None
    ) -> Caller:
        """The Caller a token stands for; raises NotAuthenticated unless it is a live key's.

        With `address`, raises TooManyFailures while that address fails too often (before any
        work) and counts its failures. The key's row is read on every call, so a revocation
        counts at once; only scrypt is cached.
        """
        if address is not None:
            self.throttle.check(address)
        try:
            return self._authenticate(conn, token)
        except NotAuthenticated:
            # A request without a key costs nothing and is how browsers arrive: not a guess.
            if address is not None and token:
                self.throttle.failed(address)
            raise

    def _authenticate(self, conn: psycopg.Connection[Any], token: str | None) -> Caller:
        if not token:
            raise NotAuthenticated("missing API key")
        match = _TOKEN.fullmatch(token)
        if match is None:
            raise NotAuthenticated("malformed API key: expected hrd_<key id>_<secret>")
        key_id, secret = match.groups()
        # A cursor of our own, as the caller's connection may have any row factory; a
        # transaction of our own, so a pooled connection is not left inside one.
        with conn.transaction(), conn.cursor(row_factory=dict_row) as cursor:
            row = cursor.execute(
                "SELECT name, role, secret_hash, revoked_at FROM api_keys WHERE key_id = %s",
                (key_id,),
            ).fetchone()
        if row is None:
            # The same scrypt work as a wrong secret, and the same answer: neither the time
            # nor the message tells a guesser whether the key id exists.
            self._verify(key_id, secret, _DUMMY_HASH)
            raise NotAuthenticated("invalid API key")
        secret_hash: str = row["secret_hash"]
        cached = self.cache.matches(token, secret_hash)
        if not cached and not self._verify(key_id, secret, secret_hash):
            raise NotAuthenticated("invalid API key")
        # Checked after the secret, so only the key's holder learns that it was revoked.
        if row["revoked_at"] is not None:
            self.cache.forget(token)
            raise NotAuthenticated(f"API key {key_id} has been revoked")
        if not cached:
            self.cache.remember(token, secret_hash)
        return Caller(key_id=key_id, name=row["name"], role=row["role"])

    def _verify(self, key_id: str, secret: str, secret_hash: str) -> bool:
        with self._slots:
            with self._count_lock:
                self.scrypt_runs += 1
                self._running += 1
                self.scrypt_peak = max(self.scrypt_peak, self._running)
            try:
                return _verify_secret(key_id, secret, secret_hash)
            finally:
                with self._count_lock:
                    self._running -= 1


# For the CLI and scripts that check a key outside the API; each API app builds its own.
_default = Authenticator()


def create_key(conn: psycopg.Connection[Any], role: str, name: str) -> tuple[Caller, str]:
    """Store a new key and return it with its token, which exists nowhere else: show it once.

    Raises InvalidArgument for an unknown role or an overlong name.
    """
    if role not in ROLES:
        raise InvalidArgument(f"unknown role {role!r} (roles: {', '.join(ROLES)})")
    name = name.strip()
    if len(name) > NAME_MAX_LENGTH:
        raise InvalidArgument(f"a key name has at most {NAME_MAX_LENGTH} characters")
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    with conn.transaction():
        conn.execute(
            "INSERT INTO api_keys (key_id, name, role, secret_hash) VALUES (%s, %s, %s, %s)",
            (key_id, name, role, _hash_secret(secret)),
        )
    log.info("api key %s created for role %s", key_id, role)
    return Caller(key_id=key_id, name=name, role=role), f"hrd_{key_id}_{secret}"


def list_keys(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    """Every key, oldest first: key_id, name, role, created_at, revoked_at (never the hash)."""
    with conn.transaction(), conn.cursor(row_factory=dict_row) as cursor:
        return cursor.execute(
            "SELECT key_id, name, role, created_at, revoked_at FROM api_keys "
            "ORDER BY created_at, key_id"
        ).fetchall()


def revoke_key(conn: psycopg.Connection[Any], key_id: str) -> bool:
    """Revoke a key from now on; False when there is no such key or it was already revoked."""
    with conn.transaction():
        row = conn.execute(
            "UPDATE api_keys SET revoked_at = now() "
            "WHERE key_id = %s AND revoked_at IS NULL RETURNING key_id",
            (key_id,),
        ).fetchone()
    if row is not None:
        log.info("api key %s revoked", key_id)
    return row is not None


def authenticate(conn: psycopg.Connection[Any], token: str | None) -> Caller:
    """The Caller a token stands for, through the process's default Authenticator (no throttle).

    Raises NotAuthenticated unless it is a live key's token.
    """
    return _default.authenticate(conn, token)


def require(caller: Caller, role: str) -> None:
    """Raise Forbidden unless `caller` may act as `role`."""
    if not caller.allows(role):
        raise Forbidden(f"this needs the {role} role; the key {caller.key_id} has {caller.role}")


def token_digest(token: str) -> bytes:
    # Tokens carry 256 random bits, so a plain sha256 is enough to keep them out of memory.
    return hashlib.sha256(token.encode()).digest()


def _hash_secret(secret: str) -> str:
    salt = secrets.token_bytes(_SALT_BYTES)
    digest = _scrypt(secret, salt, _SCRYPT_N, _SCRYPT_R, _SCRYPT_P, _SCRYPT_DKLEN)
    return "$".join(
        (
            "scrypt",
            str(_SCRYPT_N),
            str(_SCRYPT_R),
            str(_SCRYPT_P),
            base64.b64encode(salt).decode(),
            base64.b64encode(digest).decode(),
        )
    )


def _verify_secret(key_id: str, secret: str, secret_hash: str) -> bool:
    try:
        algorithm, n, r, p, salt, digest = secret_hash.split("$")
        if algorithm != "scrypt":
            raise ValueError(f"unknown algorithm {algorithm!r}")
        expected = base64.b64decode(digest, validate=True)
        actual = _scrypt(
            secret, base64.b64decode(salt, validate=True), int(n), int(r), int(p), len(expected)
        )
    except ValueError as exc:  # binascii.Error is a ValueError too
        # Only a damaged row gets here; the key cannot be used until it is replaced.
        log.error("api key %s has an unreadable hash: %s", key_id, exc)
        return False
    return hmac.compare_digest(expected, actual)


def _scrypt(secret: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    # OpenSSL refuses more than 32 MiB unless told otherwise; allow what the parameters need.
    maxmem = 128 * r * (n + p + 2) + (1 << 20)
    return hashlib.scrypt(secret.encode(), salt=salt, n=n, r=r, p=p, dklen=dklen, maxmem=maxmem)
