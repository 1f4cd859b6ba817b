"""The PDF's font, DejaVu Sans, and the report reduced to the characters it can draw."""

from __future__ import annotations

from dataclasses import replace
from functools import cache
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import TTFFont

from hrdata.metrics.report.snapshot import Report
from hrdata.wire import DepartmentRow

FONTS = Path(__file__).with_name("fonts")
# DejaVu Sans ships inside the package (its licence beside it): Latin, Greek, Cyrillic and
# more, on any machine, with no system font. Characters it lacks (CJK, for one) become '?'
# in the PDF only; the HTML page leaves glyphs to the browser.
PDF_FONT = "DejaVu Sans"


@cache
def font_characters() -> frozenset[int]:
    """The code points DejaVu Sans has a glyph for."""
    probe = FPDF()
    probe.add_font(PDF_FONT, "", FONTS / "DejaVuSans.ttf")
    font = probe.fonts[PDF_FONT.lower()]
    assert isinstance(font, TTFFont)
    return frozenset(font.cmap)


def _printable(text: str) -> str:
    # fpdf2 would silently drop a character the font lacks; a '?' shows something was there.
    known = font_characters()
    return "".join(c if ord(c) in known or c.isspace() else "?" for c in text)


def printable_report(report: Report) -> Report:
    """The report with every name reduced to characters the PDF font can draw."""

    def department(row: DepartmentRow) -> DepartmentRow:
        return replace(row, department=_printable(row.department))

    against = report.against
    return replace(
        report,
        quarters=[
            replace(r, department=_printable(r.department), job=_printable(r.job))
            for r in report.quarters
        ],
        against=replace(
            against,
            departments=[department(d) for d in against.departments],
            above=[department(d) for d in against.above],
        ),
    )
