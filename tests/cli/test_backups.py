"""`hrdata backups list` and `hrdata restore` as people use them: ids shown whole whatever the
terminal's width, and a restore on a terminal asks first."""

from __future__ import annotations

import os
import pty
import sys

import psycopg
import pytest

from hrdata.backup.sets import take_backup
from hrdata.settings import Settings
from tests.support.fixture_types import Invoke, RowsIn
from tests.support.terminal import drawn


@pytest.fixture
def departments(db: psycopg.Connection) -> None:
    db.execute("INSERT INTO departments VALUES (1, 'Sales'), (2, 'HR'), (3, 'Legal')")


@pytest.mark.parametrize("columns", [80, 60, 40, 24])
def test_backups_list_cuts_nothing_and_shows_every_id_whole_at_any_width(
    run: Invoke, settings: Settings, departments: None, columns: int
) -> None:
    ids = [take_backup(settings).backup_id for _ in range(2)]

    result = run("backups", "list", COLUMNS=str(columns))

    assert 0 == result.exit_code, result.output
    lines = result.stdout.splitlines()
    assert all(any(backup_id in line for line in lines) for backup_id in ids), result.stdout
    assert "…" not in result.stdout
    assert all(len(line) <= columns for line in lines), result.stdout
    assert all(line in ids or line[-1] in "┓┃┩│┘" for line in lines), result.stdout  # not cropped


def test_restore_off_a_terminal_asks_nothing_and_restores(
    run: Invoke, settings: Settings, db: psycopg.Connection, departments: None, rows_in: RowsIn
) -> None:
    take_backup(settings)
    db.execute("DELETE FROM departments")

    result = run("restore", "departments", input="n\n")

    assert 0 == result.exit_code, result.output
    assert "[y/N]" not in result.output
    assert 3 == rows_in("departments")


def restore_on_a_terminal(settings: Settings, answer: bytes, *args: str) -> tuple[int, str]:
    """`hrdata restore departments` on a pseudo-terminal, `answer` typed once it asks (if it
    does): (exit code, everything it drew)."""
    assert settings.database_url is not None
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("HRDATA_")},
        "HRDATA_DATABASE_URL": settings.database_url.get_secret_value(),
        "HRDATA_HOME": str(settings.home),
        "COLUMNS": "200",
    }
    pid, terminal = pty.fork()
    if pid == 0:  # the child: its stdin, stdout and stderr are the terminal
        os.execvpe(
            sys.executable,
            [sys.executable, "-m", "hrdata", "restore", "departments", *args],
            environment,
        )
    screen = drawn(terminal, answer=answer, when=b"[y/N]")
    _, status = os.waitpid(pid, 0)
    os.close(terminal)
    return os.waitstatus_to_exitcode(status), screen


def test_restore_on_a_terminal_answered_no_restores_nothing_and_exits_1(
    settings: Settings, db: psycopg.Connection, departments: None, rows_in: RowsIn
) -> None:
    backup_id = take_backup(settings).backup_id
    db.execute("DELETE FROM departments WHERE id = 3")

    code, drawn = restore_on_a_terminal(settings, b"n\r")

    assert f"departments (3 rows) from backup {backup_id}" in drawn
    assert (1, 2) == (code, rows_in("departments"))
    assert "nothing was restored" in drawn


def test_restore_on_a_terminal_answered_yes_restores(
    settings: Settings, db: psycopg.Connection, departments: None, rows_in: RowsIn
) -> None:
    take_backup(settings)
    db.execute("DELETE FROM departments WHERE id = 3")

    code, drawn = restore_on_a_terminal(settings, b"y\r")

    assert "[y/N]" in drawn
    assert (0, 3) == (code, rows_in("departments")), drawn


def test_restore_on_a_terminal_with_yes_asks_nothing(
    settings: Settings, db: psycopg.Connection, departments: None, rows_in: RowsIn
) -> None:
    take_backup(settings)
    db.execute("DELETE FROM departments WHERE id = 3")

    code, drawn = restore_on_a_terminal(settings, b"n\r", "--yes")

    assert "[y/N]" not in drawn
    assert (0, 3) == (code, rows_in("departments")), drawn
