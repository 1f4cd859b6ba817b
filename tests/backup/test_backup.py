"""AVRO backup and atomic restore on a real database: round trips, snapshots, refusals."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC
from pathlib import Path
from typing import Any

import avro.datafile
import avro.io
import psycopg
import pytest

from hrdata.backup.manifest import MANIFEST
from hrdata.backup.restore import restore
from hrdata.backup.sets import list_backups, prune_backups, take_backup, verify_backup
from hrdata.errors import BackupCorrupt, InvalidArgument, NotFound, RestoreWouldBreakReferences
from hrdata.ingest.migrate import migrate
from hrdata.settings import Settings
from tests.support.fixture_types import RowsIn
from tests.support.paths import CHALLENGE

TABLE_QUERIES = {
    "departments": "SELECT * FROM departments ORDER BY id",
    "jobs": "SELECT * FROM jobs ORDER BY id",
    "hired_employees": "SELECT * FROM hired_employees ORDER BY id",
}


def snapshot(db: psycopg.Connection) -> dict[str, list[tuple[Any, ...]]]:
    return {table: db.execute(query).fetchall() for table, query in TABLE_QUERIES.items()}


@pytest.fixture
def loaded(settings: Settings, db: psycopg.Connection) -> dict[str, list[tuple[Any, ...]]]:
    migrate(settings, [str(CHALLENGE)])
    return snapshot(db)


def backup_dir(settings: Settings, backup_id: str) -> Path:
    return settings.home / "backups" / backup_id


@pytest.mark.parametrize("table", ["departments", "jobs", "hired_employees"])
def test_restore_brings_back_exactly_the_backed_up_rows(
    settings: Settings, db: psycopg.Connection, loaded: dict[str, Any], table: str
) -> None:
    take_backup(settings)
    if table == "hired_employees":
        db.execute("DELETE FROM hired_employees WHERE id % 3 = 0")
        db.execute("UPDATE hired_employees SET name = 'changed', datetime = now() WHERE id % 5 = 0")
    else:
        db.execute(f"UPDATE {table} SET {'job' if table == 'jobs' else 'department'} = 'changed'")
        db.execute(f"INSERT INTO {table} VALUES (100000, 'new')")

    restore(settings, [table])

    assert loaded == snapshot(db)


def test_restore_all_replaces_every_table_in_order(
    settings: Settings, db: psycopg.Connection, loaded: dict[str, Any]
) -> None:
    take_backup(settings)
    db.execute(
        "DELETE FROM hired_employees; DELETE FROM departments WHERE id > 6; "
        "DELETE FROM jobs WHERE id > 100"
    )

    result = restore(settings)

    assert loaded == snapshot(db)
    assert {"departments": 12, "jobs": 183, "hired_employees": 1930} == result.rows


def test_backup_writes_a_manifest_with_counts_checksums_and_fingerprints(
    settings: Settings, loaded: dict[str, Any]
) -> None:
    manifest = take_backup(settings)

    written = json.loads((backup_dir(settings, manifest.backup_id) / MANIFEST).read_text())
    assert {"departments": 12, "jobs": 183, "hired_employees": 1930} == {
        name: entry["rows"] for name, entry in written["tables"].items()
    }
    assert all(
        len(e["sha256"]) == 64 and len(e["schema_fingerprint"]) == 64
        for e in written["tables"].values()
    )


def test_the_schema_fingerprint_is_the_sha256_of_the_files_schema_as_sorted_compact_json(
    settings: Settings, loaded: dict[str, Any]
) -> None:
    manifest = take_backup(settings)

    for entry in manifest.tables.values():
        path = backup_dir(settings, manifest.backup_id) / entry.file
        with path.open("rb") as f:
            stored = json.loads(
                avro.datafile.DataFileReader(f, avro.io.DatumReader()).meta["avro.schema"]
            )
        text = json.dumps(stored, sort_keys=True, separators=(",", ":"))
        assert hashlib.sha256(text.encode()).hexdigest() == entry.schema_fingerprint


def test_backup_of_chosen_tables_only(settings: Settings, loaded: dict[str, Any]) -> None:
    manifest = take_backup(settings, ["jobs"])

    assert ["jobs"] == list(manifest.tables)


@pytest.mark.parametrize("codec", ["null", "deflate", "zstandard", "snappy"])
def test_every_codec_round_trips(
    settings: Settings, db: psycopg.Connection, loaded: dict[str, Any], codec: str
) -> None:
    manifest = take_backup(settings, codec=codec)
    db.execute("DELETE FROM hired_employees")

    restore(settings, ["hired_employees"], manifest.backup_id)

    assert loaded == snapshot(db)


def test_files_read_back_identically_with_the_apache_avro_reader(
    settings: Settings, loaded: dict[str, Any]
) -> None:
    manifest = take_backup(settings)

    read: dict[str, list[tuple[Any, ...]]] = {}
    for name, entry in manifest.tables.items():
        path = backup_dir(settings, manifest.backup_id) / entry.file
        with avro.datafile.DataFileReader(path.open("rb"), avro.io.DatumReader()) as records:
            read[name] = [tuple(r.values()) for r in records]
    assert loaded == read
    assert UTC.utcoffset(None) == read["hired_employees"][0][2].utcoffset()


@pytest.mark.slow
def test_backup_is_one_consistent_snapshot_while_writes_go_on(
    settings: Settings, db: psycopg.Connection, database_url: str
) -> None:
    migrate(settings, [str(CHALLENGE / "jobs.csv")])
    db.execute("INSERT INTO departments SELECT i, 'Dept ' || i FROM generate_series(1, 10) i")
    db.execute(
        "INSERT INTO hired_employees "
        "SELECT i, 'E' || i, now(), 1 + i % 10, 1 FROM generate_series(1, 200000) i"
    )
    stop = threading.Event()
    written: list[int] = []

    def keep_writing() -> None:
        with psycopg.connect(database_url, autocommit=True) as writer:
            late = 1000
            while not stop.is_set():
                # A new department and an employee in it, committed together.
                with writer.transaction():
                    writer.execute("INSERT INTO departments VALUES (%s, 'late')", (late,))
                    writer.execute(
                        "INSERT INTO hired_employees VALUES (%s, 'late', now(), %s, 1)",
                        (late + 1_000_000, late),
                    )
                written.append(late)
                late += 1

    writer = threading.Thread(target=keep_writing)
    writer.start()
    while not written:
        time.sleep(0.001)
    try:
        manifest = take_backup(settings)
    finally:
        stop.set()
        writer.join()

    pairs = manifest.tables["departments"].rows - 10
    assert 0 < pairs < len(written)  # some pairs were in the snapshot, some came after it
    assert pairs == manifest.tables["hired_employees"].rows - 200000
    db.execute("DELETE FROM hired_employees; DELETE FROM departments")
    restore(settings, backup_id=manifest.backup_id)  # checks every reference: refused if torn


def corrupt(path: Path, how: str) -> None:
    data = bytearray(path.read_bytes())
    if how == "flipped byte":
        data[len(data) // 2] ^= 0xFF
    else:
        data = data[: len(data) // 2]
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["flipped byte", "truncated"])
def test_restore_refuses_a_damaged_file_and_changes_nothing(
    settings: Settings, db: psycopg.Connection, loaded: dict[str, Any], how: str
) -> None:
    manifest = take_backup(settings)
    corrupt(backup_dir(settings, manifest.backup_id) / "hired_employees.avro", how)
    db.execute("DELETE FROM hired_employees WHERE id < 100")
    before = snapshot(db)

    with pytest.raises(BackupCorrupt, match="damaged or truncated"):
        restore(settings, ["hired_employees"])

    assert before == snapshot(db)


def rewrite_manifest(settings: Settings, backup_id: str, change: Any) -> None:
    path = backup_dir(settings, backup_id) / MANIFEST
    manifest = json.loads(path.read_text())
    change(manifest)
    path.write_text(json.dumps(manifest))


def test_restore_refuses_a_file_of_another_table(
    settings: Settings, db: psycopg.Connection, loaded: dict[str, Any]
) -> None:
    manifest = take_backup(settings)
    folder = backup_dir(settings, manifest.backup_id)
    (folder / "departments.avro").write_bytes((folder / "jobs.avro").read_bytes())

    def pretend_it_is_departments(m: dict[str, Any]) -> None:
        jobs = m["tables"]["jobs"]
        m["tables"]["departments"].update(
            rows=jobs["rows"], bytes=jobs["bytes"], sha256=jobs["sha256"]
        )

    rewrite_manifest(settings, manifest.backup_id, pretend_it_is_departments)

    with pytest.raises(BackupCorrupt, match="another schema"):
        restore(settings, ["departments"])

    assert loaded == snapshot(db)


def test_restore_refuses_a_backup_whose_schema_differs_from_the_dictionary(
    settings: Settings, db: psycopg.Connection, loaded: dict[str, Any]
) -> None:
    manifest = take_backup(settings)
    rewrite_manifest(
        settings,
        manifest.backup_id,
        lambda m: m["tables"]["jobs"].update(schema_fingerprint="0" * 64),
    )

    with pytest.raises(BackupCorrupt, match="schema differs"):
        restore(settings, ["jobs"])


def test_restore_refuses_a_foreign_file(
    settings: Settings, db: psycopg.Connection, loaded: dict[str, Any]
) -> None:
    manifest = take_backup(settings)
    path = backup_dir(settings, manifest.backup_id) / "jobs.avro"
    path.write_bytes(b"this is not avro at all" * 10)
    rewrite_manifest(
        settings,
        manifest.backup_id,
        lambda m: m["tables"]["jobs"].update(
            bytes=path.stat().st_size,
            sha256=__import__("hashlib").sha256(path.read_bytes()).hexdigest(),
        ),
    )

    with pytest.raises(BackupCorrupt, match="not a readable AVRO file"):
        restore(settings, ["jobs"])

    assert loaded == snapshot(db)


def test_parent_restore_that_would_orphan_employees_is_refused_naming_them(
    settings: Settings, db: psycopg.Connection, loaded: dict[str, Any]
) -> None:
    db.execute("DELETE FROM hired_employees WHERE department_id = 12")
    db.execute("DELETE FROM departments WHERE id = 12")
    take_backup(settings, ["departments"])
    db.execute("INSERT INTO departments VALUES (12, 'back')")
    db.execute(
        "INSERT INTO hired_employees VALUES (5000, 'x', now(), 12, 1), (5001, 'y', now(), 12, 1)"
    )
    before = snapshot(db)

    with pytest.raises(
        RestoreWouldBreakReferences, match=r"2 hired_employees rows .* \(department_id 12\)"
    ) as refused:
        restore(settings, ["departments"])

    assert before == snapshot(db)
    facts = refused.value
    assert ("hired_employees", "department_id", "departments", 2, [12], False) == (
        facts.child,
        facts.column,
        facts.parent,
        facts.rows,
        facts.ids,
        facts.more,
    )


def test_restore_of_missing_backup_is_not_found(settings: Settings, db: psycopg.Connection) -> None:
    with pytest.raises(NotFound):
        restore(settings, ["jobs"], "20200101T000000Z-abcdef")


@pytest.mark.parametrize("bad", ["../../etc", "latest", "20200101T000000Z-abcdef/../x", ""])
def test_backup_ids_that_are_not_ids_are_refused(settings: Settings, bad: str) -> None:
    with pytest.raises(InvalidArgument):
        verify_backup(settings, bad or " ")


def test_verify_reports_an_intact_set_and_catches_a_damaged_one(
    settings: Settings, loaded: dict[str, Any]
) -> None:
    manifest = take_backup(settings)
    verify_backup(settings, manifest.backup_id)
    corrupt(backup_dir(settings, manifest.backup_id) / "jobs.avro", "flipped byte")

    with pytest.raises(BackupCorrupt):
        verify_backup(settings, manifest.backup_id)


def test_a_corrupt_set_names_itself_and_the_table_and_file_at_fault(
    settings: Settings, loaded: dict[str, Any]
) -> None:
    manifest = take_backup(settings)
    corrupt(backup_dir(settings, manifest.backup_id) / "jobs.avro", "flipped byte")

    with pytest.raises(BackupCorrupt) as damaged:
        verify_backup(settings, manifest.backup_id)
    rewrite_manifest(settings, manifest.backup_id, lambda m: m.update(backup_id="another"))
    with pytest.raises(BackupCorrupt) as unreadable:
        verify_backup(settings, manifest.backup_id)

    assert [(manifest.backup_id, "jobs", "jobs.avro"), (manifest.backup_id, None, MANIFEST)] == [
        (e.value.backup_id, e.value.table, e.value.file) for e in (damaged, unreadable)
    ]


def test_a_set_without_manifest_is_not_listed(settings: Settings, loaded: dict[str, Any]) -> None:
    manifest = take_backup(settings)
    (backup_dir(settings, manifest.backup_id) / MANIFEST).unlink()

    assert [] == list_backups(settings)


@pytest.mark.slow
def test_prune_keeps_the_newest_sets(settings: Settings, loaded: dict[str, Any]) -> None:
    ids = []
    for _ in range(3):
        ids.append(take_backup(settings, ["departments"]).backup_id)
        time.sleep(1.01)  # ids carry the second they were taken

    deleted = prune_backups(settings, keep=1)

    assert (ids[:2], [ids[2]]) == (deleted, [m.backup_id for m in list_backups(settings)])


@pytest.mark.slow
def test_restore_killed_midway_leaves_the_table_as_it_was(
    settings: Settings, db: psycopg.Connection, rows_in: RowsIn
) -> None:
    db.execute("INSERT INTO departments VALUES (1, 'Sales'); INSERT INTO jobs VALUES (1, 'Clerk')")
    db.execute(
        "INSERT INTO hired_employees "
        "SELECT i, 'E' || i, now(), 1, 1 FROM generate_series(1, 300000) i"
    )
    take_backup(settings, ["hired_employees"])
    db.execute("DELETE FROM hired_employees WHERE id > 1000")
    before = snapshot(db)
    assert settings.database_url is not None
    env = {
        **os.environ,
        "HRDATA_DATABASE_URL": settings.database_url.get_secret_value(),
        "HRDATA_HOME": str(settings.home),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "hrdata", "restore", "hired_employees"],
        env=env,
        cwd=settings.home.parent,
    )
    deadline = time.monotonic() + 60
    while not db.execute(
        "SELECT 1 FROM pg_stat_progress_copy "
        "WHERE relid = 'hired_employees'::regclass AND tuples_processed > 10000"
    ).fetchone():
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.005)

    process.send_signal(signal.SIGKILL)
    process.wait()
    while db.execute("SELECT 1 FROM pg_stat_activity WHERE application_name = 'hrdata'").fetchone():
        time.sleep(0.01)

    assert before == snapshot(db)
    assert 1000 == rows_in("hired_employees")
