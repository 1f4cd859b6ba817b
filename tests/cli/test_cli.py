"""The `hrdata` command: output, exit codes and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import click
import psycopg
import pytest

from hrdata.cli import cli
from hrdata.errors import EXIT_OVER_REJECT_LIMIT
from tests.support.fixture_types import Invoke
from tests.support.paths import CHALLENGE, DOCS


def commands(group: click.Group) -> list[click.Command]:
    found: list[click.Command] = []
    for command in group.commands.values():
        found.append(command)
        if isinstance(command, click.Group):
            found += commands(command)
    return found


@pytest.mark.parametrize("command", commands(cli), ids=lambda c: c.name)
def test_every_command_has_help(command: click.Command) -> None:
    assert command.help


def test_migrate_json_prints_one_object_with_counts_per_table(
    run: Invoke, db: psycopg.Connection
) -> None:
    result = run("migrate", str(CHALLENGE), "--json")

    report = json.loads(result.stdout)
    assert 0 == result.exit_code
    assert {
        "read": 1999,
        "inserted": 1930,
        "skipped": 0,
        "rejected": 69,
        "rejected_by_reason": {"missing": 69},
    } == {
        k: report["tables"]["hired_employees"][k]
        for k in ("read", "inserted", "skipped", "rejected", "rejected_by_reason")
    }
    assert ["departments", "jobs", "hired_employees"] == list(report["tables"])


def test_migrate_prints_a_summary_table(run: Invoke, db: psycopg.Connection) -> None:
    result = run("migrate", str(CHALLENGE))

    assert "hired_employees" in result.stdout and "missing 69" in result.stdout


def test_migrate_quiet_prints_nothing_when_all_goes_well(
    run: Invoke, db: psycopg.Connection
) -> None:
    result = run("migrate", str(CHALLENGE), "--quiet")

    assert (0, "", "") == (result.exit_code, result.stdout, result.stderr)


def test_migrate_quiet_still_prints_the_error(
    run: Invoke, db: psycopg.Connection, tmp_path: Path
) -> None:
    result = run("migrate", str(tmp_path / "nope.csv"), "--quiet")

    assert 2 == result.exit_code
    assert "" == result.stdout
    assert f"Error: {tmp_path / 'nope.csv'}: no such file or directory\n" == result.stderr


def test_migrate_quiet_still_names_a_file_over_the_reject_limit(
    run: Invoke, db: psycopg.Connection
) -> None:
    result = run("migrate", str(CHALLENGE), "--quiet", "--max-rejects", "1%")

    assert (EXIT_OVER_REJECT_LIMIT, "") == (result.exit_code, result.stdout)
    assert "hired_employees.csv: over_reject_limit: nothing from it was kept" in result.stderr


def test_over_reject_limit_exits_non_zero(run: Invoke, db: psycopg.Connection) -> None:
    result = run("migrate", str(CHALLENGE), "--max-rejects", "1%", "--json")

    assert EXIT_OVER_REJECT_LIMIT == result.exit_code
    assert (
        "over_reject_limit"
        == json.loads(result.stdout)["tables"]["hired_employees"]["files"][0]["status"]
    )


def test_missing_path_is_one_line_naming_it(
    run: Invoke, db: psycopg.Connection, tmp_path: Path
) -> None:
    result = run("migrate", str(tmp_path / "nowhere"))

    assert (2, f"Error: {tmp_path / 'nowhere'}: no such file or directory\n") == (
        result.exit_code,
        result.stderr,
    )


def test_bad_max_rejects_is_refused(run: Invoke, db: psycopg.Connection) -> None:
    result = run("migrate", str(CHALLENGE), "--max-rejects", "lots")

    assert 2 == result.exit_code and "--max-rejects 'lots'" in result.stderr


def test_unknown_table_is_refused(run: Invoke, db: psycopg.Connection) -> None:
    result = run("migrate", str(CHALLENGE / "jobs.csv"), "--table", "staff")

    assert 2 == result.exit_code and "unknown table 'staff'" in result.stderr


def test_database_down_names_the_server_and_not_the_password(run: Invoke, tmp_path: Path) -> None:
    url = "postgresql://hrdata:not-the-password@127.0.0.1:1/hrdata"

    result = run("migrate", str(CHALLENGE), HRDATA_DATABASE_URL=url)

    assert 4 == result.exit_code
    assert "cannot connect to PostgreSQL at 127.0.0.1:1/hrdata" in result.stderr
    assert "not-the-password" not in result.stderr


def test_init_db_is_idempotent(run: Invoke, db: psycopg.Connection) -> None:
    results = [run("init-db"), run("init-db")]

    assert [0, 0] == [r.exit_code for r in results]


def test_dictionary_doc_is_current(run: Invoke) -> None:
    result = run("dictionary", "--check", str(DOCS / "dictionary.md"))

    assert 0 == result.exit_code, result.output


def test_report_writes_one_html_file_with_both_metrics(
    run: Invoke, db: psycopg.Connection, tmp_path: Path
) -> None:
    run("migrate", str(CHALLENGE), "--quiet")

    result = run("report", "--year", "2021", "--out", str(tmp_path / "r.html"))

    html = (tmp_path / "r.html").read_text()
    assert 0 == result.exit_code, result.output
    assert all(f'id="{part}"' in html for part in ("hires-by-quarter", "departments-above-mean"))
    assert "Account Representative IV" in html


def test_report_writes_a_pdf_when_the_file_name_says_so(
    run: Invoke, db: psycopg.Connection, tmp_path: Path
) -> None:
    result = run("report", "--out", str(tmp_path / "r.pdf"))

    assert 0 == result.exit_code, result.output
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF")


def test_report_into_a_missing_folder_is_one_line_naming_it(
    run: Invoke, db: psycopg.Connection, tmp_path: Path
) -> None:
    out = tmp_path / "missing" / "r.html"

    result = run("report", "--out", str(out))

    assert (7, f"Error: {out}: folder {out.parent} does not exist\n") == (
        result.exit_code,
        result.stderr,
    )
