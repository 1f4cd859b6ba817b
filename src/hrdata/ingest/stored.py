"""The rows a dictionary table holds, read back in id order, page by page."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

from hrdata.dictionary import Table


def rows_after(
    conn: psycopg.Connection, table: Table, after: int, limit: int
) -> list[dict[str, Any]]:
    """Up to `limit` rows of `table` with an id above `after`, in id order, keyed by column."""
    query = sql.SQL("SELECT {} FROM {} WHERE id > %s ORDER BY id LIMIT %s").format(
        sql.SQL(", ").join(map(sql.Identifier, table.column_names)), sql.Identifier(table.name)
    )
    return [
        dict(zip(table.column_names, row, strict=True))
        for row in conn.execute(query, (after, limit))
    ]
