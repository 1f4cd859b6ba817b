"""Where the repository's files are, whichever folder of tests/ asks."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
SRC = ROOT / "src"
CHALLENGE = ROOT / "data" / "challenge"
