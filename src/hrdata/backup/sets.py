"""Taking, listing, verifying and pruning backup sets."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import psycopg

from hrdata import __version__
from hrdata.backup.avro import HashingWriter, count_records, file_schema, write_table
from hrdata.backup.codecs import CODECS, DEFAULT_CODEC
from hrdata.backup.ids import checked_backup_id, new_backup_id
from hrdata.backup.manifest import (
    MANIFEST,
    Manifest,
    current_fingerprint,
    schema_fingerprint,
)
from hrdata.db import Prepare, connection
from hrdata.dictionary import TABLES, Table, dependency_rank
from hrdata.dictionary import table as table_named
from hrdata.errors import BackupCorrupt, InvalidArgument, NotFound, SourceError, StorageError
from hrdata.settings import Settings
from hrdata.storage import Storage, storage_for
from hrdata.wire import TableFile

# Told of each table a backup or restore has finished, with its rows (for job progress).
TableDone = Callable[[str, int], None]


def tables_named(names: list[str] | None) -> list[Table]:
    """The tables asked for (all when None), in dependency order."""
    chosen = [table_named(n) for n in names] if names else list(TABLES)
    return sorted(set(chosen), key=dependency_rank)


def take_backup(
    settings: Settings,
    tables: list[str] | None = None,
    destination: str | None = None,
    codec: str = DEFAULT_CODEC,
    on_table: TableDone = lambda table, rows: None,
    prepare: Prepare | None = None,
) -> Manifest:
    """Write every table asked for from one consistent snapshot, then the manifest; `prepare`
    runs on the connection first (the CLI makes the schema with it)."""
    if codec not in CODECS:
        raise InvalidArgument(f"unknown codec {codec!r} (codecs: {', '.join(CODECS)})")
    chosen = tables_named(tables)
    storage = storage_for(settings, destination)
    manifest = Manifest(new_backup_id(), datetime.now(UTC).isoformat(), __version__, codec)
    with connection(settings) as conn:
        if prepare is not None:
            prepare(conn)
            conn.commit()
        # One REPEATABLE READ transaction: every table as of the same instant, writes go on.
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        with conn.transaction():
            for table in chosen:
                entry = _write_file(conn, storage, manifest.backup_id, table, codec)
                manifest.tables[table.name] = entry
                on_table(table.name, entry.rows)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as out:
        out.write(manifest.to_json())
    try:
        storage.put(Path(out.name), f"{manifest.backup_id}/{MANIFEST}")
    finally:
        Path(out.name).unlink(missing_ok=True)
    return manifest


def _write_file(
    conn: psycopg.Connection, storage: Storage, backup_id: str, table: Table, codec: str
) -> TableFile:
    name = f"{table.name}.avro"
    with tempfile.NamedTemporaryFile("wb", suffix=".avro", delete=False) as raw:
        out = HashingWriter(raw)
        rows = write_table(conn, table, out, codec)  # type: ignore[arg-type]
    try:
        storage.put(Path(raw.name), f"{backup_id}/{name}")
    finally:
        Path(raw.name).unlink(missing_ok=True)
    return TableFile(
        table.name, name, rows, out.size, out.digest.hexdigest(), current_fingerprint(table)
    )


@dataclass(frozen=True)
class BrokenSet:
    """A set with a manifest that cannot be read: listed with why, never restored."""

    backup_id: str
    problem: str


def list_backups(settings: Settings, location: str | None = None) -> list[Manifest | BrokenSet]:
    """Every complete backup set (one with a manifest), oldest first; broken ones among them."""
    storage = storage_for(settings, location)
    found: list[Manifest | BrokenSet] = []
    for backup_id in storage.sets():
        if storage.exists(f"{backup_id}/{MANIFEST}"):
            try:
                found.append(read_manifest(storage, backup_id))
            except (BackupCorrupt, InvalidArgument, StorageError, SourceError) as exc:
                # One bad set must not hide the others.
                found.append(BrokenSet(backup_id, str(exc)))
    return found


def listed(entry: Manifest | BrokenSet) -> dict[str, Any]:
    """A set as `backups list --json` and GET /v1/backups show it: status, problem, manifest."""
    if isinstance(entry, BrokenSet):
        unknown: dict[str, Any] = {"created_at": None, "hrdata_version": None, "codec": None}
        broken = {"backup_id": entry.backup_id, "status": "broken", "problem": entry.problem}
        return broken | unknown | {"tables": {}}
    return {"backup_id": entry.backup_id, "status": "complete", "problem": None} | asdict(entry)


def read_manifest(storage: Storage, backup_id: str) -> Manifest:
    """The manifest of `backup_id`; raises NotFound, or BackupCorrupt when unreadable."""
    checked_backup_id(backup_id)
    if not storage.exists(f"{backup_id}/{MANIFEST}"):
        raise NotFound(f"no complete backup {backup_id} in {storage.location}")
    with storage.open(f"{backup_id}/{MANIFEST}") as stream:
        try:
            manifest = Manifest.from_json(stream.read())
        except ValueError as exc:
            raise BackupCorrupt(
                f"backup {backup_id}: {MANIFEST} is unreadable: {exc}",
                backup_id=backup_id,
                file=MANIFEST,
            ) from exc
    if manifest.backup_id != backup_id:
        raise BackupCorrupt(
            f"backup {backup_id}: {MANIFEST} describes another set",
            backup_id=backup_id,
            file=MANIFEST,
        )
    return manifest


def latest_backup(storage: Storage) -> str:
    complete = [b for b in storage.sets() if storage.exists(f"{b}/{MANIFEST}")]
    if not complete:
        raise NotFound(f"no backup in {storage.location}")
    return complete[-1]


@contextmanager
def verified_file(storage: Storage, manifest: Manifest, table: Table) -> Iterator[IO[bytes]]:
    """A local copy of the table's file, after checking size, checksum, schema and row count.

    Raises BackupCorrupt naming what is wrong; nothing is changed before this passes.
    """
    entry = manifest.tables.get(table.name)
    where = f"backup {manifest.backup_id}, {table.name}"
    if entry is None:
        raise NotFound(f"{where}: this set has no such table")

    def corrupt(problem: str) -> BackupCorrupt:
        return BackupCorrupt(
            f"{where}: {problem}", backup_id=manifest.backup_id, table=table.name, file=entry.file
        )

    if entry.schema_fingerprint != current_fingerprint(table):
        raise corrupt("the backup's schema differs from the current dictionary")
    with tempfile.TemporaryFile() as local:
        with storage.open(f"{manifest.backup_id}/{entry.file}") as remote:
            out = HashingWriter(local)
            while chunk := remote.read(1 << 20):
                out.write(chunk)
        if (out.size, out.digest.hexdigest()) != (entry.bytes, entry.sha256):
            raise corrupt("the file is damaged or truncated (checksum mismatch)")
        try:
            local.seek(0)
            schema = file_schema(local)
            local.seek(0)
            rows = count_records(local)
        except Exception as exc:  # fastavro raises many kinds on a foreign file
            raise corrupt(f"not a readable AVRO file: {exc}") from exc
        if schema_fingerprint(schema) != entry.schema_fingerprint:
            raise corrupt("the file holds another schema than its manifest says")
        if rows != entry.rows:
            raise corrupt(f"{rows} rows in the file, {entry.rows} in the manifest")
        local.seek(0)
        yield local


def verify_backup(settings: Settings, backup_id: str, location: str | None = None) -> Manifest:
    """Read every file of a set and check it against its manifest; raises BackupCorrupt."""
    storage = storage_for(settings, location)
    manifest = read_manifest(storage, backup_id)
    for name in manifest.tables:
        with verified_file(storage, manifest, table_named(name)):
            pass
    return manifest


def prune_backups(settings: Settings, keep: int, location: str | None = None) -> list[str]:
    """Delete all but the newest `keep` complete sets (and any incomplete older ones)."""
    if keep < 1:
        raise InvalidArgument("--keep must be at least 1")
    storage = storage_for(settings, location)
    every = storage.sets()
    complete = [b for b in every if storage.exists(f"{b}/{MANIFEST}")]
    kept = set(complete[-keep:])
    oldest_kept = min(kept) if kept else ""
    doomed = [b for b in every if b not in kept and b < oldest_kept]
    for backup_id in doomed:
        storage.delete_set(checked_backup_id(backup_id))
    return doomed
