"""The progress bar: shown on a terminal, hidden with --quiet."""

from __future__ import annotations

import os
import pty
import subprocess
import sys

import psycopg

from hrdata.settings import Settings
from tests.support.paths import CHALLENGE
from tests.support.terminal import drawn


def run_on_terminal(settings: Settings, *args: str) -> str:
    """Run `hrdata migrate` with a pseudo-terminal as stdout and stderr; return what it drew."""
    assert settings.database_url is not None
    primary, secondary = pty.openpty()
    env = {
        **os.environ,
        "HRDATA_DATABASE_URL": settings.database_url.get_secret_value(),
        "HRDATA_HOME": str(settings.home),
        "COLUMNS": "120",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "hrdata", "migrate", str(CHALLENGE), *args],
        stdout=secondary,
        stderr=secondary,
        env=env,
        cwd=settings.home.parent,
    )
    os.close(secondary)
    screen = drawn(primary)
    process.wait(timeout=60)
    os.close(primary)
    return screen


def test_progress_bar_is_drawn_on_a_terminal(settings: Settings, db: psycopg.Connection) -> None:
    screen = run_on_terminal(settings)

    assert "hired_employees ← hired_employees.csv" in screen


def test_quiet_draws_nothing_on_a_terminal(settings: Settings, db: psycopg.Connection) -> None:
    screen = run_on_terminal(settings, "--quiet")

    assert "" == screen
