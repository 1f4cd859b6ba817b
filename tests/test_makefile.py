"""The Makefile a new user runs first: what `make run` shows while it sets up and serves."""

from __future__ import annotations

import re

from tests.support.paths import ROOT


def recipe_lines() -> list[str]:
    return [
        line.strip() for line in (ROOT / "Makefile").read_text().splitlines() if line[:1] == "\t"
    ]


def test_every_pip_install_of_the_makefile_shows_its_progress() -> None:
    installs = [line for line in recipe_lines() if " install " in line and "pip" in line]

    assert installs
    assert [] == [line for line in installs if re.search(r"\s(--quiet|-q+)\b", line)]
