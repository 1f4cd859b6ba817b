"""Historic migration into a real PostgreSQL: counts, rejects, re-runs, references, limits."""

from __future__ import annotations

import csv
import gzip
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from hrdata.errors import SourceError
from hrdata.ingest.loader import RejectLimit
from hrdata.ingest.migrate import migrate
from hrdata.settings import Settings
from tests.support.fixture_types import RowsIn
from tests.support.paths import CHALLENGE, ROOT


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_bytes(text.encode())
    return path


@pytest.fixture
def parents(tmp_path: Path) -> Path:
    folder = tmp_path / "parents"
    folder.mkdir()
    write(folder, "departments.csv", "1,Sales\n2,HR\n")
    write(folder, "jobs.csv", "10,Clerk\n")
    return folder


def expected_from_challenge() -> dict[str, tuple[int, int]]:
    """(inserted, rejected) per table, counted from the CSV files in plain Python."""
    result = {}
    with open(CHALLENGE / "departments.csv", newline="") as f:
        departments = {int(r[0]) for r in csv.reader(f)}
    with open(CHALLENGE / "jobs.csv", newline="") as f:
        jobs = {int(r[0]) for r in csv.reader(f)}
    result["departments"] = (len(departments), 0)
    result["jobs"] = (len(jobs), 0)
    good = bad = 0
    with open(CHALLENGE / "hired_employees.csv", newline="") as f:
        for row in csv.reader(f):
            ok = (
                len(row) == 5
                and all(v.strip() for v in row)
                and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", row[2]) is not None
                and int(row[3]) in departments
                and int(row[4]) in jobs
            )
            good, bad = good + ok, bad + (not ok)
    result["hired_employees"] = (good, bad)
    return result


def test_original_export_loads_with_the_independently_counted_rows(
    settings: Settings, rows_in: RowsIn
) -> None:
    summary = migrate(settings, [str(CHALLENGE)]).as_dict()

    actual = {name: (t["inserted"], t["rejected"]) for name, t in summary["tables"].items()}
    assert expected_from_challenge() == actual
    assert {name: inserted for name, (inserted, _) in actual.items()} == {
        name: rows_in(name) for name in actual
    }


def test_original_export_matches_the_shared_copy() -> None:
    shared = ROOT.parent / "shared" / "data" / "challenge"
    if not shared.exists():
        pytest.skip("../shared is not beside this checkout")
    for name in ("departments.csv", "jobs.csv", "hired_employees.csv"):
        assert (shared / name).read_bytes() == (CHALLENGE / name).read_bytes()


def test_rerun_of_same_files_inserts_nothing(settings: Settings, rows_in: RowsIn) -> None:
    migrate(settings, [str(CHALLENGE)])
    before = {t: rows_in(t) for t in ("departments", "jobs", "hired_employees")}

    second = migrate(settings, [str(CHALLENGE)]).as_dict()

    assert before == {t: rows_in(t) for t in before}
    assert dict.fromkeys(before, 0) == {t: e["inserted"] for t, e in second["tables"].items()}
    assert {"already_present": 1930} == second["tables"]["hired_employees"]["skipped_by_reason"]


def test_tables_load_in_dependency_order_whatever_the_argument_order(
    settings: Settings, rows_in: RowsIn, tmp_path: Path, parents: Path
) -> None:
    employees = write(tmp_path, "hired_employees.csv", "1,Ada,2021-01-01T00:00:00Z,1,10\n")

    summary = migrate(
        settings, [str(employees), str(parents / "jobs.csv"), str(parents / "departments.csv")]
    )

    assert ["departments", "jobs", "hired_employees"] == [f.table for f in summary.files]
    assert 1 == rows_in("hired_employees")


def test_repeated_identical_line_is_skipped_as_duplicate(
    settings: Settings, db: psycopg.Connection, tmp_path: Path
) -> None:
    path = write(tmp_path, "departments.csv", "1,Sales\n2,HR\n1,Sales\n")

    result = migrate(settings, [str(path)]).files[0]

    assert (2, 0, {"duplicate_in_source": 1}) == (
        result.inserted,
        result.rejected,
        dict(result.skipped_by_reason),
    )


def test_repeated_id_with_other_values_is_a_conflict_and_first_wins(
    settings: Settings, db: psycopg.Connection, tmp_path: Path
) -> None:
    path = write(tmp_path, "departments.csv", "1,Sales\n1,Marketing\n")

    result = migrate(settings, [str(path)]).files[0]

    assert {"duplicate_conflict": 1} == dict(result.rejected_by_reason)
    assert [(1, "Sales")] == db.execute("SELECT id, department FROM departments").fetchall()


def test_existing_id_with_other_values_is_rejected_as_conflict(
    settings: Settings, db: psycopg.Connection, tmp_path: Path
) -> None:
    migrate(settings, [str(write(tmp_path, "departments.csv", "1,Sales\n"))])
    other = tmp_path / "other"
    other.mkdir()

    result = migrate(settings, [str(write(other, "departments.csv", "1,Marketing\n2,HR\n"))]).files[
        0
    ]

    assert (1, {"conflict": 1}) == (result.inserted, dict(result.rejected_by_reason))
    reasons = db.execute("SELECT reasons FROM rejected_rows").fetchone()
    assert reasons is not None and "department Marketing here vs Sales" in reasons[0][0]["message"]


def test_employee_with_missing_department_is_rejected_naming_it(
    settings: Settings, db: psycopg.Connection, tmp_path: Path, parents: Path
) -> None:
    employees = write(tmp_path, "hired_employees.csv", "1,Ada,2021-01-01T00:00:00Z,7,10\n")

    migrate(settings, [str(parents), str(employees)])

    row = db.execute("SELECT reasons FROM rejected_rows").fetchone()
    assert (
        row is not None
        and [
            {
                "code": "unknown_reference",
                "column": "department_id",
                "message": "department_id 7 does not exist in departments",
            }
        ]
        == row[0]
    )


def test_reject_is_stored_with_source_line_raw_values_and_run(
    settings: Settings, db: psycopg.Connection, tmp_path: Path
) -> None:
    path = write(tmp_path, "departments.csv", "1,Sales\n0, \n")

    summary = migrate(settings, [str(path)])

    row = db.execute("SELECT run_id, table_name, source, line, raw FROM rejected_rows").fetchone()
    assert (summary.run_id, "departments", str(path), 2, ["0", " "]) == row


def test_rejects_are_written_as_json_lines_in_the_log_folder(
    settings: Settings, db: psycopg.Connection, tmp_path: Path
) -> None:
    path = write(tmp_path, "departments.csv", "1,Sales\nx,\n")

    summary = migrate(settings, [str(path)])

    logs = list((settings.home / "logs" / "rejects" / summary.run_id).glob("*.jsonl"))
    records = [json.loads(line) for line in logs[0].read_text().splitlines()]
    assert [(2, ["x", ""], ["not_an_integer", "missing"])] == [
        (r["line"], r["raw"], [reason["code"] for reason in r["reasons"]]) for r in records
    ]


def test_run_is_recorded_with_its_counts(settings: Settings, db: psycopg.Connection) -> None:
    summary = migrate(settings, [str(CHALLENGE)])

    runs = db.execute("SELECT run_id, status FROM load_runs").fetchall()
    files = db.execute(
        "SELECT table_name, read, inserted, rejected FROM load_run_files ORDER BY position"
    ).fetchall()
    assert [(summary.run_id, "succeeded")] == runs
    assert [
        ("departments", 12, 12, 0),
        ("jobs", 183, 183, 0),
        ("hired_employees", 1999, 1930, 69),
    ] == files


def test_gzip_file_loads_like_plain(settings: Settings, rows_in: RowsIn, tmp_path: Path) -> None:
    path = tmp_path / "jobs.csv.gz"
    path.write_bytes(gzip.compress((CHALLENGE / "jobs.csv").read_bytes()))

    migrate(settings, [str(path)])

    assert 183 == rows_in("jobs")


def test_datetime_is_stored_as_the_utc_instant(
    settings: Settings, db: psycopg.Connection, tmp_path: Path, parents: Path
) -> None:
    employees = write(tmp_path, "hired_employees.csv", "1,Ada,2021-03-31T23:30:00-02:00,1,10\n")

    migrate(settings, [str(parents), str(employees)])

    row = db.execute("SELECT datetime FROM hired_employees").fetchone()
    assert row is not None and datetime(2021, 4, 1, 1, 30, tzinfo=UTC) == row[0]


def test_over_reject_limit_publishes_nothing_from_the_file_but_logs_rejects(
    settings: Settings, rows_in: RowsIn, tmp_path: Path
) -> None:
    path = write(tmp_path, "departments.csv", "1,Sales\n2,\n3,\n")

    summary = migrate(settings, [str(path)], limit=RejectLimit.parse("1"))

    assert ("over_reject_limit", 0, 2) == (
        summary.status,
        rows_in("departments"),
        rows_in("rejected_rows"),
    )


def test_reject_limit_as_a_share_of_rows(
    settings: Settings, rows_in: RowsIn, tmp_path: Path
) -> None:
    path = write(tmp_path, "departments.csv", "1,Sales\n2,HR\n3,\n")

    summary = migrate(settings, [str(path)], limit=RejectLimit.parse("50%"))

    assert ("succeeded", 2) == (summary.status, rows_in("departments"))


def test_child_rows_referencing_a_file_over_the_limit_are_rejected(
    settings: Settings, db: psycopg.Connection, tmp_path: Path
) -> None:
    write(tmp_path, "departments.csv", "1,Sales\n2,\n")
    write(tmp_path, "jobs.csv", "10,Clerk\n")
    write(tmp_path, "hired_employees.csv", "1,Ada,2021-01-01T00:00:00Z,1,10\n")

    summary = migrate(settings, [str(tmp_path)], limit=RejectLimit.parse("0"))

    assert {"unknown_reference": 1} == summary.as_dict()["tables"]["hired_employees"][
        "rejected_by_reason"
    ]


def test_missing_path_is_refused_before_anything_loads(
    settings: Settings, rows_in: RowsIn, tmp_path: Path
) -> None:
    with pytest.raises(SourceError, match="no such file or directory"):
        migrate(settings, [str(CHALLENGE), str(tmp_path / "nope.csv")])

    assert 0 == rows_in("departments")


def test_empty_file_is_refused_naming_it(
    settings: Settings, db: psycopg.Connection, tmp_path: Path
) -> None:
    path = write(tmp_path, "jobs.csv", "")

    with pytest.raises(SourceError, match=r"jobs\.csv: file is empty"):
        migrate(settings, [str(path)])


def test_file_named_after_no_table_is_refused(
    settings: Settings, db: psycopg.Connection, tmp_path: Path
) -> None:
    path = write(tmp_path, "staff.csv", "1,Ada\n")

    with pytest.raises(SourceError, match="cannot tell which table"):
        migrate(settings, [str(path)])


def test_table_option_names_the_table_of_a_file(
    settings: Settings, rows_in: RowsIn, tmp_path: Path
) -> None:
    path = write(tmp_path, "export-2021.csv", "1,Sales\n")

    migrate(settings, [str(path)], table="departments")

    assert 1 == rows_in("departments")


def test_corrupt_gzip_fails_the_file_and_keeps_nothing_of_it(
    settings: Settings, rows_in: RowsIn, tmp_path: Path
) -> None:
    data = gzip.compress(b"".join(f"{i},Dept {i}\n".encode() for i in range(1, 50_000)))
    path = tmp_path / "departments.csv.gz"
    path.write_bytes(data[: len(data) // 2])

    with pytest.raises(SourceError, match="reading failed"):
        migrate(settings, [str(path)])

    assert 0 == rows_in("departments")


def test_every_kind_of_broken_line_is_logged_and_good_lines_load(
    settings: Settings, db: psycopg.Connection, tmp_path: Path
) -> None:
    lines = [
        b"1,Sales",
        b'2,"HR',
        b"3,Fin\xffance",
        b"4",
        b"5,Ok, extra",
        b"6," + b"x" * 2_000_000,
        b"7,Legal",
    ]
    path = tmp_path / "departments.csv"
    path.write_bytes(b"\r\n".join(lines) + b"\r\n")

    result = migrate(settings, [str(path)]).files[0]

    assert (
        2,
        {"unbalanced_quotes": 1, "invalid_utf8": 1, "wrong_field_count": 2, "line_too_long": 1},
    ) == (
        result.inserted,
        dict(result.rejected_by_reason),
    )
    assert [2, 3, 4, 5, 6] == [
        r[0] for r in db.execute("SELECT line FROM rejected_rows ORDER BY line")
    ]


def test_log_left_unwritten_by_a_dead_run_is_written_by_the_next(
    settings: Settings, db: psycopg.Connection, tmp_path: Path
) -> None:
    path = write(tmp_path, "departments.csv", "1,Sales\nx,\n")
    first = migrate(settings, [str(path)])
    log = Path(first.files[0].rejects_log or "")
    # As if the process died after the commit, before publishing the log:
    log.unlink()
    db.execute("UPDATE load_run_files SET rejects_log = NULL")

    migrate(settings, [str(path)])

    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(first.run_id, 2, ["x", ""])] == [(r["run_id"], r["line"], r["raw"]) for r in records]
    assert (
        str(log)
        == db.execute(
            "SELECT rejects_log FROM load_run_files WHERE run_id = %s", (first.run_id,)
        ).fetchone()[0]
    )  # type: ignore[index]


def test_log_records_match_the_rejected_rows_table(
    settings: Settings, db: psycopg.Connection
) -> None:
    summary = migrate(settings, [str(CHALLENGE)])

    log = Path(summary.files[2].rejects_log or "")
    logged = [json.loads(line) for line in log.read_text().splitlines()]
    stored = db.execute(
        "SELECT line, raw, reasons, rejected_at FROM rejected_rows ORDER BY id"
    ).fetchall()
    assert [(r[0], r[1], r[2], r[3].isoformat()) for r in stored] == [
        (r["line"], r["raw"], r["reasons"], r["rejected_at"]) for r in logged
    ]


def test_names_with_c1_controls_or_line_separators_are_rejected_not_loaded(
    settings: Settings, db: psycopg.Connection, tmp_path: Path
) -> None:
    path = tmp_path / "departments.csv"
    path.write_bytes("1,Sales\n790003,\x9bcsi\n790004,a\u2028b\n790005,\x1cedge\n".encode())

    report = migrate(settings, [str(path)])

    assert (1, 3) == (report.files[0].inserted, report.files[0].rejected)
    codes = db.execute(
        "SELECT DISTINCT r->>'code' FROM rejected_rows, jsonb_array_elements(reasons) r"
    )
    assert [("control_character",)] == codes.fetchall()


def test_a_header_in_another_order_loads_every_column_by_name(
    settings: Settings, db: psycopg.Connection, parents: Path, tmp_path: Path
) -> None:
    migrate(settings, [str(parents)])
    path = write(
        tmp_path,
        "hired_employees.csv",
        "department_id,job_id,id,name,datetime\n2,10,7,Ada,2021-01-01T00:00:00Z\n",
    )

    result = migrate(settings, [str(path)]).files[0]

    assert (1, 0) == (result.inserted, result.rejected)
    assert (7, "Ada", 2, 10) == db.execute(
        "SELECT id, name, department_id, job_id FROM hired_employees"
    ).fetchone()


def test_a_header_naming_an_unknown_column_fails_the_file_naming_it(
    settings: Settings, rows_in: RowsIn, tmp_path: Path
) -> None:
    path = write(tmp_path, "departments.csv", "id,dept_name\n1,Sales\n")

    with pytest.raises(SourceError, match=r"departments\.csv.*names unknown 'dept_name'"):
        migrate(settings, [str(path)])

    assert 0 == rows_in("departments")


def test_a_department_name_another_id_holds_is_rejected_as_name_taken_inside_a_file(
    settings: Settings, db: psycopg.Connection, tmp_path: Path
) -> None:
    path = write(tmp_path, "departments.csv", "11,Legal\n13, LEGAL \n14,Légal\n11,Legal\n")

    result = migrate(settings, [str(path)]).files[0]

    assert (2, {"name_taken": 1}) == (result.inserted, dict(result.rejected_by_reason))
    assert [(11, "Legal"), (14, "Légal")] == db.execute(
        "SELECT id, department FROM departments ORDER BY id"
    ).fetchall()


def test_a_job_name_stored_under_another_id_is_rejected_in_a_later_run(
    settings: Settings, db: psycopg.Connection, tmp_path: Path
) -> None:
    db.execute("INSERT INTO jobs VALUES (1, 'Straße Sweeper')")
    path = write(tmp_path, "jobs.csv", "2,STRASSE SWEEPER\n1,Straße Sweeper\n")

    result = migrate(settings, [str(path)]).files[0]

    assert (0, 1, {"name_taken": 1}) == (
        result.inserted,
        result.skipped,
        dict(result.rejected_by_reason),
    )


def test_employees_may_share_a_name(
    settings: Settings, db: psycopg.Connection, parents: Path, tmp_path: Path
) -> None:
    migrate(settings, [str(parents)])
    moment = "2021-01-01T00:00:00Z"
    path = write(tmp_path, "hired_employees.csv", f"1,Ada,{moment},1,10\n2,ada,{moment},1,10\n")

    assert 2 == migrate(settings, [str(path)]).files[0].inserted
