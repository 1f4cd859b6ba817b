"""A metric's CSV, as the API sent it, saved to the file the person chose.

The cells go through hrdata's one CSV writer again, so the file is safe to open in a
spreadsheet whichever server answered (neutralising twice changes nothing).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from hrdata.spreadsheet import write_csv


def save_csv(content: bytes, target: Path) -> int:
    """Write the CSV `content` (header row first) to `target`; return its data rows."""
    header, *rows = csv.reader(io.StringIO(content.decode("utf-8"), newline=""))
    with target.open("w", encoding="utf-8", newline="") as out:
        return write_csv(out, header, rows)
