"""What a test reads back from a PostgreSQL database, whichever database it is."""

from __future__ import annotations

import psycopg
from psycopg import sql


def count(conn: psycopg.Connection, table: str) -> int:
    """How many rows `table` holds."""
    row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()
    assert row is not None
    return int(row[0])
