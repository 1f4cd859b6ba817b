"""The report as an A4 PDF: the headline, both charts, the departments above the mean, then
the department and job table as an appendix; fpdf2 draws the same SVG charts as the page."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence

from fpdf import FPDF, FontFace

from hrdata.metrics.report.breakdown import department_groups, year_totals
from hrdata.metrics.report.chart import PDF, Chart, mean_chart, quarters_chart
from hrdata.metrics.report.pdf_font import FONTS, PDF_FONT, printable_report
from hrdata.metrics.report.snapshot import Report
from hrdata.metrics.report.svg import chart_svg
from hrdata.metrics.report.wording import (
    MEAN_HEADING,
    NONE_ABOVE,
    QUARTERS_HEADING,
    data_line,
    department_labels,
    has_hires,
    headline,
    mean_meaning,
    mean_text,
    no_hires,
)


class _ReportPDF(FPDF):
    """A4 pages in DejaVu Sans with the report's name and page number at the foot."""

    def __init__(self, footer_text: str) -> None:
        super().__init__(format="A4")
        self.footer_text = footer_text
        self.add_font(PDF_FONT, "", FONTS / "DejaVuSans.ttf")
        self.add_font(PDF_FONT, "B", FONTS / "DejaVuSans-Bold.ttf")
        self.set_auto_page_break(auto=True, margin=15)
        self.set_margins(15, 15, 15)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(PDF_FONT, size=8)
        self.set_text_color(110)
        self.cell(0, 5, f"{self.footer_text} · page {self.page_no()}/{{nb}}", align="C")


def render_pdf(report: Report) -> bytes:
    """The report as an A4 PDF: title, data line and headline, both charts, the departments
    above the mean, then the department and job table (with subtotals) as an appendix."""
    report = printable_report(report)
    hiring = has_hires(report)
    pdf = _ReportPDF(f"Hiring metrics {report.year}")
    pdf.add_page()
    pdf.set_font(PDF_FONT, "B", 18)
    pdf.cell(0, 10, f"Hiring metrics {report.year}", new_x="LMARGIN", new_y="NEXT")
    _paragraph(pdf, data_line(report), size=9, colour=80)
    _headline(pdf, report)
    if hiring:
        _chart(pdf, QUARTERS_HEADING, quarters_chart(report, PDF))
        _chart(pdf, MEAN_HEADING, mean_chart(report, PDF))
    _heading(pdf, "Departments above the mean")
    if not hiring:
        _paragraph(pdf, no_hires(report), size=10, colour=60)
    elif not report.against.above:
        _paragraph(pdf, f"{NONE_ABOVE} ({mean_text(report)}).", size=10, colour=60)
    else:
        _paragraph(pdf, f"Mean: {mean_text(report)} ({mean_meaning(report)}).", size=9, colour=60)
        departments = department_labels(report)
        _table(
            pdf,
            ("id", "department", "hired"),
            [((str(d.id), departments[d.id], f"{d.hired:,}"), None) for d in report.against.above],
            widths=(1, 6, 1.5),
            numeric=(True, False, True),
        )
    _appendix(pdf, report)
    return bytes(pdf.output())


def _headline(pdf: FPDF, report: Report) -> None:
    """The year at a glance, a line per figure; a year without hires says so first."""
    pdf.ln(2)
    pdf.set_text_color(20)
    if not has_hires(report):
        pdf.set_font(PDF_FONT, "B", 14)
        pdf.multi_cell(0, 8, no_hires(report), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(PDF_FONT, "", 12)
    for figure in headline(report):
        # Markdown bolds the figure; the words hold numbers and years only, never names.
        text = f"**{figure.value}** {figure.words}"
        pdf.multi_cell(0, 7, text, markdown=True, new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0)


def _appendix(pdf: FPDF, report: Report) -> None:
    """The department and job table, each department's jobs followed by its subtotal, then the
    totals row; on pages of its own, after everything a reader looks at first."""
    title = f"Appendix: hires by department and job in {report.year}"
    groups = department_groups(report)
    if not groups:
        _heading(pdf, title)
        _paragraph(pdf, no_hires(report), size=10, colour=60)
        return
    pdf.add_page()
    _heading(pdf, title)
    subtotal = FontFace(emphasis="BOLD", fill_color=(226, 232, 240))
    rows: list[tuple[Sequence[str], FontFace | None]] = []
    for group in groups:
        for job in group.jobs:
            rows.append(((group.label, job.label, *_numbers(job.quarters)), None))
        rows.append(((group.label, "subtotal", *_numbers(group.quarters)), subtotal))
    total = FontFace(emphasis="BOLD", fill_color=(203, 213, 225))
    rows.append((("All departments", "total", *_numbers(year_totals(groups))), total))
    _table(
        pdf,
        ("department", "job", "Q1", "Q2", "Q3", "Q4", "total"),
        rows,
        widths=(5, 6, 1, 1, 1, 1, 1.3),
        numeric=(False, False, True, True, True, True, True),
    )


def _numbers(quarters: tuple[int, int, int, int]) -> tuple[str, ...]:
    """Q1..Q4 and their sum, as the tables print them."""
    return (*(f"{q:,}" for q in quarters), f"{sum(quarters):,}")


def _heading(pdf: FPDF, text: str, keep: float = 30) -> None:
    """A section heading, on a new page unless `keep` mm of what follows fit under it."""
    if pdf.get_y() + 10 + keep > pdf.h - pdf.b_margin:
        pdf.add_page()
    pdf.ln(3)
    pdf.set_font(PDF_FONT, "B", 12)
    pdf.set_text_color(20)
    pdf.multi_cell(0, 7, text, align="L", new_x="LMARGIN", new_y="NEXT")


def _paragraph(pdf: FPDF, text: str, size: float, colour: int) -> None:
    pdf.set_font(PDF_FONT, "", size)
    pdf.set_text_color(colour)
    pdf.multi_cell(0, size * 0.5, text, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0)


def _chart(pdf: FPDF, heading: str, chart: Chart) -> None:
    """A heading and its chart across the page, both on a new page unless they fit this one."""
    width = pdf.epw
    height = width * chart.height / chart.width
    room = pdf.h - pdf.b_margin - pdf.t_margin - 12
    if height > room:  # so many departments that the chart outgrows a page: shrink it
        width, height = width * room / height, room
    _heading(pdf, heading, keep=height)
    svg = chart_svg(chart, PDF_FONT, standalone=True)
    pdf.image(io.BytesIO(svg.encode()), x=pdf.l_margin, w=width, h=height)
    pdf.set_y(pdf.get_y() + 2)


def _table(
    pdf: FPDF,
    headings: Sequence[str],
    rows: Iterable[tuple[Sequence[str], FontFace | None]],
    widths: Sequence[float],
    numeric: Sequence[bool],
) -> None:
    """A zebra-striped table whose heading row repeats at the top of every page; `rows` are
    (values, a style of their own or None)."""
    pdf.set_font(PDF_FONT, "", 8)
    pdf.set_draw_color(203, 213, 225)
    pdf.set_line_width(0.2)
    align = tuple("RIGHT" if n else "LEFT" for n in numeric)
    with pdf.table(
        col_widths=tuple(widths),
        text_align=align,
        headings_style=FontFace(emphasis="BOLD", fill_color=(226, 232, 240)),
        cell_fill_color=(246, 248, 250),
        cell_fill_mode="ROWS",
        borders_layout="HORIZONTAL_LINES",
        line_height=4.2,
        padding=(0.4, 1.5),
        first_row_as_headings=True,
        repeat_headings=1,
    ) as table:
        table.row(headings)
        for values, style in rows:
            table.row(values, style=style)
