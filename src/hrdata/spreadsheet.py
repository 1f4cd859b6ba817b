"""CSV that opens safely in a spreadsheet: text that would start a formula is neutralised.

Excel, LibreOffice and Google Sheets may run a cell that starts with `=`, `+`, `-`, `@`, TAB or
CR as a formula (CSV injection); OWASP's remedy is a single quote in front, which makes it
text. Every CSV hrdata writes goes through `write_csv`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import TextIO

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: object) -> object:
    """`cell`, with a single quote in front when it is text that a spreadsheet would run."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return f"'{cell}"
    return cell


def write_csv(out: TextIO, header: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    """Write the header and `rows` to `out` as CSV, every cell neutralised; return rows written."""
    writer = csv.writer(out)
    writer.writerow([neutralise(cell) for cell in header])
    written = 0
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
        written += 1
    return written


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """The header and `rows` as CSV text, every cell neutralised."""
    out = io.StringIO()
    write_csv(out, header, rows)
    return out.getvalue()
