"""Sign-in sessions of the report pages: the browser holds a random token, never the API key.

Only the token's sha256 is stored, with the key it was opened by and when it expires; a
session ends at its expiry, at sign-out, or when its key is revoked (checked on every use).
A token carries 256 random bits, so a fast hash is enough: there is nothing to guess.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

import psycopg

from hrdata.auth import Caller, token_digest
from hrdata.errors import NotAuthenticated

DDL: dict[str, tuple[str, ...]] = {
    "report_sessions": (
        """CREATE TABLE IF NOT EXISTS report_sessions (
        token_sha256 bytea PRIMARY KEY,
        key_id text NOT NULL REFERENCES api_keys (key_id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL
    )""",
        "CREATE INDEX IF NOT EXISTS report_sessions_by_expiry ON report_sessions (expires_at)",
    ),
}


def open_session(conn: psycopg.Connection[Any], caller: Caller, lifetime: timedelta) -> str:
    """A new session for `caller`'s key, valid for `lifetime`; returns its token (shown once)."""
    token = secrets.token_urlsafe(32)
    with conn.transaction():
        conn.execute("DELETE FROM report_sessions WHERE expires_at <= now()")
        conn.execute(
            "INSERT INTO report_sessions (token_sha256, key_id, expires_at) "
            "VALUES (%s, %s, now() + %s)",
            (token_digest(token), caller.key_id, lifetime),
        )
    return token


def session_caller(conn: psycopg.Connection[Any], token: str) -> Caller:
    """The Caller whose live key opened the session `token`; raises NotAuthenticated."""
    # A cursor and a transaction of our own: the caller's connection may have any row factory,
    # and a pooled connection must not be left inside a transaction.
    with conn.transaction(), conn.cursor() as cursor:
        row = cursor.execute(
            "SELECT k.key_id, k.name, k.role FROM report_sessions s "
            "JOIN api_keys k USING (key_id) "
            "WHERE s.token_sha256 = %s AND s.expires_at > now() AND k.revoked_at IS NULL",
            (token_digest(token),),
        ).fetchone()
    if row is None:
        raise NotAuthenticated("the session has ended (expired, signed out or key revoked)")
    return Caller(key_id=row[0], name=row[1], role=row[2])


def close_session(conn: psycopg.Connection[Any], token: str) -> None:
    """End the session `token` now (nothing happens for an unknown one)."""
    with conn.transaction():
        conn.execute("DELETE FROM report_sessions WHERE token_sha256 = %s", (token_digest(token),))
