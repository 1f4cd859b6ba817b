"""Idempotency-Key: a retried request gets the answer of the first one and writes nothing more.

The key is claimed in the transaction that writes the request's rows and holds its answer once
that commits, so a request and its answer are stored together or not at all.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from hrdata.errors import IdempotencyConflict

DDL: dict[str, tuple[str, ...]] = {
    "idempotency_keys": (
        """CREATE TABLE IF NOT EXISTS idempotency_keys (
        owner text NOT NULL,
        key text NOT NULL,
        request_hash text NOT NULL,
        status_code integer,
        response jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (owner, key)
    )""",
    ),
}

# An HTTP status and the JSON body answered with it.
Answer = tuple[int, dict[str, Any]]


@dataclass(frozen=True)
class Idempotency:
    """An Idempotency-Key, scoped to the API key that sent it, and a hash of its request."""

    owner: str
    key: str
    request_hash: str

    @classmethod
    def of(cls, owner: str, key: str, *request_parts: bytes | str) -> Idempotency:
        digest = hashlib.sha256()
        for part in request_parts:
            digest.update(part.encode() if isinstance(part, str) else part)
            digest.update(b"\0")
        return cls(owner, key, digest.hexdigest())


def claim(conn: psycopg.Connection, idempotency: Idempotency) -> Answer | None:
    """Take the key for this request, or return the answer stored by the request that holds it.

    A concurrent request with the same key waits here until the first one commits (or rolls
    back, and then this one goes ahead).
    """
    claimed = conn.execute(
        "INSERT INTO idempotency_keys (owner, key, request_hash) VALUES (%s, %s, %s) "
        "ON CONFLICT (owner, key) DO NOTHING RETURNING key",
        (idempotency.owner, idempotency.key, idempotency.request_hash),
    ).fetchone()
    if claimed is not None:
        return None
    row = conn.execute(
        "SELECT request_hash, status_code, response FROM idempotency_keys "
        "WHERE owner = %s AND key = %s",
        (idempotency.owner, idempotency.key),
    ).fetchone()
    assert row is not None
    if row[0] != idempotency.request_hash:
        raise IdempotencyConflict(
            f"Idempotency-Key {idempotency.key!r} was already used for a different request"
        )
    return int(row[1]), dict(row[2])


def remember(conn: psycopg.Connection, idempotency: Idempotency, answer: Answer) -> None:
    """Store the answer of the request holding the key (in its transaction)."""
    status, body = answer
    conn.execute(
        "UPDATE idempotency_keys SET status_code = %s, response = %s WHERE owner = %s AND key = %s",
        (status, Jsonb(body), idempotency.owner, idempotency.key),
    )
