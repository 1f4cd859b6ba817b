"""What the CLI prints for people: a name, source or message can neither drive the terminal
(escape sequences, bidi overrides), break a line, nor pass for Rich markup."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from hrdata.auth import create_key
from tests.support.fixture_types import Invoke

HOSTILE = {
    "escape sequence": ("\x1b[2J\x1b[31mred", "\\x1b[2J\\x1b[31mred"),
    "bell and backspace": ("a\x07\x08b", "a\\x07\\x08b"),
    "line break": ("first\nsecond", "first\\x0asecond"),
    "C1 control": ("a\x9bb", "a\\x9bb"),
    "bidi override": ("abc\u202edef", "abc\\u202edef"),
    "line separator": ("a\u2028b", "a\\u2028b"),
}
RAW = ("\x1b", "\x07", "\x9b", "\u202e", "\u2028")


@pytest.mark.parametrize(("name", "shown"), list(HOSTILE.values()), ids=list(HOSTILE))
def test_keys_list_shows_control_characters_in_names_escaped(
    run: Invoke, db: psycopg.Connection, name: str, shown: str
) -> None:
    create_key(db, "read", name)

    result = run("keys", "list", COLUMNS="200")  # no name wrapped

    assert 0 == result.exit_code, result.output
    assert shown in result.stdout
    assert not any(raw in result.stdout for raw in RAW)


@pytest.mark.parametrize("name", ["[bold]loud[/bold]", "[/]", "[link=http://evil]x[/link]"])
def test_keys_list_shows_markup_in_names_as_typed(
    run: Invoke, db: psycopg.Connection, name: str
) -> None:
    create_key(db, "read", name)

    result = run("keys", "list", COLUMNS="200")  # no name wrapped

    assert 0 == result.exit_code, result.output
    assert name in result.stdout


@pytest.mark.parametrize(("name", "shown"), list(HOSTILE.values()), ids=list(HOSTILE))
def test_an_error_naming_a_hostile_path_is_one_escaped_line(
    run: Invoke, db: psycopg.Connection, name: str, shown: str
) -> None:
    result = run("migrate", name)

    assert f"Error: {shown}: no such file or directory\n" == result.stderr


def test_a_note_naming_a_hostile_source_is_escaped(
    run: Invoke, db: psycopg.Connection, tmp_path: Path
) -> None:
    folder = tmp_path / "a\x1b[31mb"
    folder.mkdir()
    (folder / "departments.csv").write_text("1,Sales\n")

    result = run("migrate", str(folder), str(folder / "departments.csv"))

    assert 0 == result.exit_code, result.output
    assert "Note: " in result.stdout and "a\\x1b[31mb" in result.stdout
    assert "\x1b" not in result.stdout
