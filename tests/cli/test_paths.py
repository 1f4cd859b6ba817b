"""Paths the CLI cannot use (a folder it may not create, a missing parent, a file in the way):
one `Error:` line naming the path and what is wrong, a documented exit code, no traceback."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from hrdata.cli import cli
from hrdata.errors import SourceError, StorageError, exit_code
from tests.support.fixture_types import Invoke
from tests.support.paths import CHALLENGE

UNWRITABLE = "/proc/nope"  # its parent exists, but nothing may be created there
MISSING_PARENT = "/nonexistent/dir/x"
FILE_AS_FOLDER = "/etc/passwd/x"
TARGETS = [UNWRITABLE, MISSING_PARENT, FILE_AS_FOLDER]
SOME_ID = "20211107T000000Z-abcdef"
STORAGE = exit_code(StorageError)
NOT_FOUND = 2  # reading a location that could exist but holds nothing is no storage problem

# (command, its arguments with T for the target, exit code per target in TARGETS order)
COMMANDS = [
    ("backup", ["backup", "--to", "T"], [STORAGE, STORAGE, STORAGE]),
    ("backups list", ["backups", "list", "--from", "T"], [0, STORAGE, STORAGE]),
    ("backups prune", ["backups", "prune", "--keep", "1", "--from", "T"], [0, STORAGE, STORAGE]),
    ("backup verify", ["backup", "verify", SOME_ID, "--from", "T"], [NOT_FOUND, STORAGE, STORAGE]),
    ("restore", ["restore", "--all", "--from", "T"], [NOT_FOUND, STORAGE, STORAGE]),
    ("report", ["report", "--out", "T"], [STORAGE, STORAGE, STORAGE]),
    ("migrate", ["migrate", "T"], [exit_code(SourceError)] * 3),
]
CASES = [
    pytest.param(arguments, target, codes[i], id=f"{name} {target}")
    for name, arguments, codes in COMMANDS
    for i, target in enumerate(TARGETS)
]

# Every command that needs the database: HRDATA_HOME holds the embedded server.
NEEDS_HOME = [
    ["init-db"],
    ["db", "url"],
    ["keys", "list"],
    ["keys", "create", "--role", "read"],
    ["keys", "revoke", "hrk_nope"],
    ["migrate", str(CHALLENGE / "departments.csv")],
    ["backup", "--tables", "jobs"],
    ["report", "--out", "report.html"],
]


def assert_one_line_naming(target: str, output: str, stderr: str) -> None:
    assert "Traceback" not in output
    assert 1 == len(stderr.splitlines()), stderr
    assert stderr.startswith("Error: ") and target in stderr, stderr


@pytest.mark.parametrize(("arguments", "target", "code"), CASES)
def test_a_target_that_cannot_be_used_is_one_line_and_its_exit_code(
    run: Invoke, db: psycopg.Connection, arguments: list[str], target: str, code: int
) -> None:
    result = run(*[target if a == "T" else a for a in arguments])

    assert code == result.exit_code, result.output
    assert "Traceback" not in result.output
    if code:
        assert_one_line_naming(target, result.output, result.stderr)


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("arguments", NEEDS_HOME, ids=" ".join)
def test_a_home_that_cannot_be_used_is_one_line_and_exit_code_7(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, arguments: list[str], target: str
) -> None:
    monkeypatch.chdir(tmp_path)
    env = {"HRDATA_HOME": target, "HRDATA_DATABASE_URL": None, "HRDATA_BACKUP_URI": None}

    result = CliRunner().invoke(cli, arguments, env=env)

    assert STORAGE == result.exit_code, result.output
    assert_one_line_naming(target, result.output, result.stderr)


def test_a_missing_parent_is_named_as_the_folder_that_does_not_exist(
    run: Invoke, db: psycopg.Connection
) -> None:
    result = run("backup", "--to", MISSING_PARENT)

    assert f"Error: {MISSING_PARENT}: folder /nonexistent/dir does not exist\n" == result.stderr


def test_a_file_in_the_way_is_named_as_a_file_not_a_folder(
    run: Invoke, db: psycopg.Connection
) -> None:
    result = run("backup", "--to", FILE_AS_FOLDER)

    assert f"Error: {FILE_AS_FOLDER}: /etc/passwd is a file, not a folder\n" == result.stderr


def test_backup_never_creates_a_chain_of_missing_folders(
    run: Invoke, db: psycopg.Connection, tmp_path: Path
) -> None:
    run("backup", "--to", str(tmp_path / "typo" / "backups"))

    assert not (tmp_path / "typo").exists()


def test_backup_creates_the_folder_it_is_given(
    run: Invoke, db: psycopg.Connection, tmp_path: Path
) -> None:
    result = run("backup", "--to", str(tmp_path / "backups"))

    assert 0 == result.exit_code, result.output
    assert 1 == len(list((tmp_path / "backups").iterdir()))


def test_dictionary_check_of_a_folder_is_one_line(run: Invoke, tmp_path: Path) -> None:
    result = run("dictionary", "--check", str(tmp_path))

    assert STORAGE == result.exit_code
    assert_one_line_naming(str(tmp_path), result.output, result.stderr)
