"""A restore checks every row by the dictionary's rules, as a migration does: a backup set that
is internally consistent (schema, sizes, checksums and counts all agree) but holds what no
migration would store is refused, naming the table, the file and the first rows, and nothing
changes. Whatever PostgreSQL itself still refuses is said in the user's terms."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import fastavro
import psycopg
import pytest

from hrdata.backup.manifest import MANIFEST
from hrdata.backup.restore import restore
from hrdata.backup.sets import take_backup
from hrdata.errors import BackupCorrupt, BackupRowsInvalid
from hrdata.settings import Settings
from tests.support.fixture_types import ApiJob, AsRole, RowsIn

Records = list[dict[str, Any]]


@pytest.fixture
def stored(db: psycopg.Connection) -> None:
    db.execute("INSERT INTO departments VALUES (1, 'Sales'), (2, 'HR'), (3, 'Legal')")
    db.execute("INSERT INTO jobs VALUES (10, 'Clerk')")
    db.execute(
        "INSERT INTO hired_employees VALUES (1, 'Ada', '2021-01-01T00:00:00Z', 1, 10),"
        " (2, 'Grace', '2021-02-01T00:00:00Z', 2, 10)"
    )


def forge(settings: Settings, table: str, change: Callable[[Records], Records]) -> str:
    """A backup whose file of `table` holds `change(records)`, with its manifest made to agree."""
    manifest = take_backup(settings)
    folder = settings.home / "backups" / manifest.backup_id
    path = folder / manifest.tables[table].file
    with path.open("rb") as f:
        reader = fastavro.reader(f)
        schema, codec, records = reader.writer_schema, reader.codec, list(reader)
    records = change(records)
    with path.open("wb") as f:
        fastavro.writer(f, schema, records, codec=codec)
    data = json.loads((folder / MANIFEST).read_text())
    data["tables"][table].update(
        rows=len(records),
        bytes=path.stat().st_size,
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
    )
    (folder / MANIFEST).write_text(json.dumps(data))
    return manifest.backup_id


def set_name(value: str, column: str = "department") -> Callable[[Records], Records]:
    def change(records: Records) -> Records:
        records[1][column] = value
        return records

    return change


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("   ", "missing"),
        ("Sa\tles", "control_character"),
        ("\x1b[31mred", "control_character"),
        ("a\u0085b", "control_character"),
        (" Sales", "untrimmed"),
        ("x" * 256, "too_long"),
        ("nul\x00", "control_character"),
    ],
    ids=["blank", "tab", "esc", "nel", "untrimmed", "too-long", "nul"],
)
def test_a_consistent_backup_holding_a_forbidden_name_is_refused_naming_file_and_row(
    settings: Settings, db: psycopg.Connection, stored: None, value: str, code: str
) -> None:
    backup_id = forge(settings, "departments", set_name(value))
    db.execute("UPDATE departments SET department = 'Changed' WHERE id = 3")

    with pytest.raises(BackupRowsInvalid) as refused:
        restore(settings, ["departments"], backup_id)

    assert ("departments", "departments.avro") == (refused.value.table, refused.value.file)
    assert [(2, [code])] == [(n, [r.code for r in rs]) for n, rs in refused.value.rows]
    assert "departments.avro" in str(refused.value) and "row 2" in str(refused.value)
    assert "Changed" == db.execute("SELECT department FROM departments WHERE id = 3").fetchone()[0]


# 10000-01-01T00:00:00Z in AVRO's microseconds since 1970: one past the dictionary's years.
AFTER_9999 = 253_402_300_800_000_000


@pytest.mark.parametrize(("column", "value"), [("id", 0), ("id", -5), ("datetime", AFTER_9999)])
def test_a_consistent_backup_holding_an_out_of_range_value_is_refused(
    settings: Settings, rows_in: RowsIn, stored: None, column: str, value: int
) -> None:
    def change(records: Records) -> Records:
        records[0][column] = value
        return records

    backup_id = forge(settings, "hired_employees", change)

    with pytest.raises(BackupRowsInvalid) as refused:
        restore(settings, ["hired_employees"], backup_id)

    assert [(1, ["out_of_range"])] == [(n, [r.code for r in rs]) for n, rs in refused.value.rows]
    assert 2 == rows_in("hired_employees")


def test_a_backup_holding_one_id_twice_is_refused_in_the_users_terms(
    settings: Settings, rows_in: RowsIn, stored: None
) -> None:
    def twice(records: Records) -> Records:
        records[1]["id"] = records[0]["id"]
        return records

    backup_id = forge(settings, "departments", twice)

    with pytest.raises(BackupCorrupt) as refused:
        restore(settings, ["departments"], backup_id)

    message = str(refused.value)
    assert "departments.avro" in message and "(id)=(1) already exists" in message
    assert (backup_id, "departments", "departments.avro") == (
        refused.value.backup_id,
        refused.value.table,
        refused.value.file,
    )
    assert "Traceback" not in message and "psycopg" not in message
    assert 3 == rows_in("departments")


def test_the_cli_refuses_such_a_backup_with_one_line_and_exit_6(
    settings: Settings, db: psycopg.Connection, stored: None, run: Any
) -> None:
    backup_id = forge(settings, "departments", set_name("\x1b[2J"))

    result = run("restore", "departments", "--backup", backup_id)

    assert 6 == result.exit_code
    assert "Traceback" not in result.output
    assert "departments.avro" in result.output and "control_character" in result.output


def test_a_backup_with_every_rule_kept_restores_exactly(
    settings: Settings, db: psycopg.Connection, stored: None
) -> None:
    # Names any migration would store: commas, quotes, backslashes, joiners, other scripts.
    names = ['Sales, "EMEA"', "R\\D", "\u0915\u094d\u200d\u0937", "Zoë\u00ad"]
    backup_id = forge(
        settings,
        "departments",
        lambda records: [{"id": i + 1, "department": n} for i, n in enumerate(names)],
    )

    restore(settings, ["departments"], backup_id)

    assert names == [r[0] for r in db.execute("SELECT department FROM departments ORDER BY id")]


def test_a_restore_job_refusing_such_a_backup_says_why_not_internal_error(
    settings: Settings,
    db: psycopg.Connection,
    stored: None,
    api: Any,
    as_role: AsRole,
    api_job: ApiJob,
) -> None:
    def twice(records: Records) -> Records:
        records[1]["id"] = records[0]["id"]
        return records

    backup_id = forge(settings, "departments", twice)
    started = api.post(
        "/v1/tables/departments/restore",
        json={"backup_id": backup_id},
        headers=as_role("admin"),
    )

    job = api_job(api, started)

    assert "failed" == job["status"] and "(id)=(1) already exists" in job["error"]
