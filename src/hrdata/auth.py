"""API keys: create, list and revoke them, and turn a presented token into the Caller it stands for.

A token is `hrd_<key id>_<secret>`. Only a salted scrypt hash of the secret is stored, so a copy
of the database is not a copy of the keys.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row

from hrdata.errors import Forbidden, InvalidArgument, NotAuthenticated

log = logging.getLogger(__name__)

ROLES = ("ingest", "read", "admin")
NAME_MAX_LENGTH = 200
CACHE_SIZE = 1024

# The key id is hex, so it cannot hold the underscore that separates it from the secret; the
# secret is url-safe base64 and may. Bounding its length keeps scrypt's input small.
_TOKEN = re.compile(r"hrd_([0-9a-f]{12})_([A-Za-z0-9_-]{32,128})")
# Parameters are stored with every hash, so raising them later leaves existing keys valid.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P, _SCRYPT_DKLEN = 2**14, 8, 1, 32
_SALT_BYTES = 16


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
    """A bounded LRU of tokens whose secret matched: sha256 of the token -> the hash it matched.

    Keeping the stored hash means a token only hits while its key's row is unchanged.
    """

    def __init__(self, capacity: int = CACHE_SIZE) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[bytes, str] = OrderedDict()
        # Requests are served from several threads; OrderedDict moves are not atomic.
        self._lock = threading.Lock()

    def matches(self, token: str, secret_hash: str) -> bool:
        """True when `token` was verified before against this very `secret_hash`."""
        key = _fingerprint(token)
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
        return found is not None and found == secret_hash

    def remember(self, token: str, secret_hash: str) -> None:
        """Record that `token` matched `secret_hash`, dropping the least recently used entry."""
        key = _fingerprint(token)
        with self._lock:
            self._entries[key] = secret_hash
            self._entries.move_to_end(key)
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


_verified = TokenCache()


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
    """The Caller a token stands for; raises NotAuthenticated unless it is a live key's token.

    The key's row is read on every call so a revocation counts at once; only scrypt is cached.
    """
    if not token:
        raise NotAuthenticated("missing API key")
    match = _TOKEN.fullmatch(token)
    if match is None:
        raise NotAuthenticated("malformed API key: expected hrd_<key id>_<secret>")
    key_id, secret = match.groups()
    # A cursor of our own, as the caller's connection may have any row factory; a transaction
    # of our own, so a pooled connection is not left inside one for the rest of the request.
    with conn.transaction(), conn.cursor(row_factory=dict_row) as cursor:
        row = cursor.execute(
            "SELECT name, role, secret_hash, revoked_at FROM api_keys WHERE key_id = %s",
            (key_id,),
        ).fetchone()
    # Unknown key and wrong secret read alike, so a guess learns nothing from the message.
    if row is None:
        raise NotAuthenticated("invalid API key")
    secret_hash: str = row["secret_hash"]
    cached = _verified.matches(token, secret_hash)
    if not cached and not _verify_secret(key_id, secret, secret_hash):
        raise NotAuthenticated("invalid API key")
    # Checked after the secret, so only the key's holder learns that it was revoked.
    if row["revoked_at"] is not None:
        raise NotAuthenticated(f"API key {key_id} has been revoked")
    if not cached:
        _verified.remember(token, secret_hash)
    return Caller(key_id=key_id, name=row["name"], role=row["role"])


def require(caller: Caller, role: str) -> None:
    """Raise Forbidden unless `caller` may act as `role`."""
    if not caller.allows(role):
        raise Forbidden(f"this needs the {role} role; the key {caller.key_id} has {caller.role}")


def _fingerprint(token: str) -> bytes:
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
