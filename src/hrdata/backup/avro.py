"""Tables to and from AVRO object container files, streamed: memory stays flat."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import IO, Any

import fastavro
import psycopg
from psycopg import sql

from hrdata.dictionary import Table
from hrdata.schema import avro_schema


class HashingWriter:
    """A binary file wrapper that counts and hashes every byte written through it."""

    def __init__(self, inner: IO[bytes]) -> None:
        self.inner = inner
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        self.size += len(data)
        return self.inner.write(data)

    def flush(self) -> None:
        self.inner.flush()

    def seekable(self) -> bool:
        return False  # tells fastavro this is a new file, not one to append to


def write_table(conn: psycopg.Connection, table: Table, out: IO[bytes], codec: str) -> int:
    """Write every row of `table`, in id order, as AVRO to `out`; return the row count.

    Runs in the caller's transaction, so several tables can share one snapshot.
    """
    columns = sql.SQL(", ").join(
        # timestamp-micros: exact integer microseconds since the epoch, computed by the server
        sql.SQL("(extract(epoch FROM {}) * 1000000)::bigint").format(sql.Identifier(c.name))
        if c.type == "datetime"
        else sql.Identifier(c.name)
        for c in table.columns
    )
    query = sql.SQL("COPY (SELECT {} FROM {} ORDER BY id) TO STDOUT (FORMAT BINARY)").format(
        columns, sql.Identifier(table.name)
    )
    names = table.column_names
    counted = [0]

    def records(rows: Iterator[tuple[Any, ...]]) -> Iterator[dict[str, Any]]:
        for row in rows:
            counted[0] += 1
            yield dict(zip(names, row, strict=True))

    with conn.cursor().copy(query) as copy:
        copy.set_types([_copy_type(c.type) for c in table.columns])
        fastavro.writer(
            out, fastavro.parse_schema(avro_schema(table)), records(copy.rows()), codec=codec
        )
    return counted[0]


def _copy_type(column_type: str) -> str:
    return {"integer": "int4", "string": "text", "datetime": "int8"}[column_type]


def file_schema(stream: IO[bytes]) -> dict[str, Any]:
    """The writer schema stored in an AVRO file's header, as written."""
    schema: dict[str, Any] = json.loads(fastavro.reader(stream).metadata["avro.schema"])
    return schema


def count_records(stream: IO[bytes]) -> int:
    """Rows in an AVRO file, counted block by block."""
    return sum(block.num_records for block in fastavro.block_reader(stream))


def read_rows(stream: IO[bytes], table: Table) -> Iterator[tuple[Any, ...]]:
    """The rows of an AVRO file of `table`, as tuples in column order (datetimes tz-aware)."""
    names = table.column_names
    for record in fastavro.reader(stream):
        assert isinstance(record, dict)
        yield tuple(record[name] for name in names)
