"""The visual report of the two hiring metrics: a self-contained HTML page and an A4 PDF.

Both outputs draw the same two SVG charts, built here from the query results: the HTML page
inlines them, the PDF embeds them through fpdf2's SVG support. Names are user data: the
templates autoescape everything, and the SVG is rendered by the same autoescaping templates.
Bars and rows are keyed by department and job id, so two departments with one name never
merge; such a name is shown with its id (`labels.distinct_labels`).
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import jinja2
import psycopg
from fpdf import FPDF, FontFace
from fpdf.fonts import TTFFont
from markupsafe import Markup

from hrdata.dictionary import HIRE_YEARS
from hrdata.metrics.labels import distinct_labels
from hrdata.metrics.queries import (
    AgainstMean,
    DataState,
    DepartmentRow,
    MeanOver,
    QuarterRow,
    data_state,
    departments_against_mean,
    hires_by_quarter,
    snapshot,
)

FONTS = Path(__file__).with_name("fonts")
# DejaVu Sans ships inside the package (its licence beside it): Latin, Greek, Cyrillic and
# more, on any machine, with no system font. Characters it lacks (CJK, for one) become '?'
# in the PDF only; the HTML page leaves glyphs to the browser.
PDF_FONT = "DejaVu Sans"
HTML_FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'

QUARTER_COLOURS = ("#0072b2", "#56b4e9", "#009e73", "#e69f00")  # Okabe-Ito: colour-blind safe
ABOVE_COLOUR = "#0072b2"
OTHER_COLOUR = "#b8c4d0"
MEAN_COLOUR = "#d55e00"
LABEL_CHARACTERS = 30
QUARTERS_HEADING = "Employees hired per department, by quarter"
MEAN_HEADING = "Employees hired per department against the mean"


@dataclass(frozen=True)
class Report:
    """Both metrics for one year and the state of the data they were read from."""

    year: int
    mean_over: MeanOver
    quarters: list[QuarterRow]
    against: AgainstMean
    state: DataState
    generated_at: datetime  # timezone-aware UTC


def build_report(conn: psycopg.Connection, year: int, mean_over: MeanOver = "all") -> Report:
    """Both metrics and the data state, read in one REPEATABLE READ, READ ONLY snapshot.

    `conn` may be in autocommit mode or idle; it must not be inside a transaction already.
    """
    # Three statements, one snapshot: the tables and the data line always agree.
    with snapshot(conn):
        quarters = hires_by_quarter(conn, year)
        against = departments_against_mean(conn, year, mean_over)
        state = data_state(conn)
    return Report(year, mean_over, quarters, against, state, datetime.now(UTC))


# --- words shared by the page and the PDF -------------------------------------------------


def has_hires(report: Report) -> bool:
    """Whether anyone was hired in the report's year."""
    return bool(report.quarters) or any(d.hired for d in report.against.departments)


def department_names(report: Report) -> dict[int, str]:
    """Each department's name by id: every department, and any the quarters name besides."""
    names = {r.department_id: r.department for r in report.quarters}
    return names | {d.id: d.department for d in report.against.departments}


def department_labels(report: Report) -> dict[int, str]:
    """Each department's label by id: its name, with its id when another shares the name."""
    return distinct_labels(department_names(report).items())


def job_labels(report: Report) -> dict[int, str]:
    """Each job's label by id, as `department_labels`."""
    return distinct_labels((r.job_id, r.job) for r in report.quarters)


def mean_text(report: Report) -> str:
    """The mean as shown next to the table of departments above it."""
    if report.against.mean is None:
        return "none (no department to average over)"
    return f"{report.against.mean:.2f} hires per department"


def mean_meaning(report: Report) -> str:
    """Which departments the mean is taken over, in words."""
    if report.mean_over == "all":
        return "mean over all departments, those without hires counting 0"
    return f"mean over departments that hired in {report.year}"


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def data_line(report: Report) -> str:
    """What data the report reflects, when it was made and which mean it uses."""
    state = report.state
    latest = _utc(state.latest_change) if state.latest_change else "none recorded"
    return (
        f"Reflects {state.hired_employees:,} hired_employees rows, {state.departments:,} "
        f"departments and {state.jobs:,} jobs; latest change {latest} (UTC). "
        f"Generated {_utc(report.generated_at)}. Departments are compared with the "
        f"{mean_meaning(report)}."
    )


# --- charts -------------------------------------------------------------------------------


# Pixels in the page; the PDF draws the same chart narrower, so its text prints larger.
HTML_WIDTH, PDF_WIDTH = 960, 720
LEFT, RIGHT, BOTTOM, ROW, BAR_HEIGHT = 220, 56, 48, 26, 16


@dataclass(frozen=True)
class Scale:
    """A linear value axis from 0 to a round maximum, mapped onto pixels from `left`."""

    top: int
    step: int
    left: float
    width: float

    @classmethod
    def fitting(cls, largest: float, left: float, width: float) -> Scale:
        """A scale whose round maximum holds `largest`, with about five ticks."""
        step = _round_step(max(largest, 1) / 5)
        return cls(step * math.ceil(max(largest, 1) / step), step, left, width)

    def x(self, value: float) -> float:
        return self.left + self.width * value / self.top

    @property
    def ticks(self) -> list[tuple[float, int]]:
        return [(self.x(v), v) for v in range(0, self.top + 1, self.step)]


def _round_step(rough: float) -> int:
    """The smallest of 1, 2, 5 times a power of ten, at least 1, not below `rough`."""
    power = 10 ** max(0, math.floor(math.log10(rough))) if rough >= 1 else 1
    return next(m * power for m in (1, 2, 5, 10) if m * power >= rough)


@dataclass(frozen=True)
class Segment:
    """A coloured stretch of a bar: `hires` of one kind (a quarter, or all of them)."""

    x: float
    width: float
    colour: str
    title: str
    hires: int


@dataclass(frozen=True)
class Bar:
    """One department's bar: its id, label, coloured segments and the total at its end."""

    key: int
    name: str
    label: str
    y: float
    total: int
    end: float
    segments: list[Segment]
    above: bool = False


@dataclass(frozen=True)
class Chart:
    """What a chart template draws; sizes are SVG user units (pixels in the page)."""

    id: str
    title: str
    width: int
    height: int
    top: float  # y of the first bar's row
    plot_bottom: float  # y of the value axis
    scale: Scale
    axis_title: str
    legend: list[tuple[str, str]]
    bars: list[Bar]
    mean: float | None = None
    plot_left: float = LEFT
    bar_height: float = BAR_HEIGHT


def _label(name: str) -> str:
    # Long names would run into the bars; the tables below carry them in full. A shared name's
    # id (at the end) is kept whole, so the shortened labels stay distinct.
    if len(name) <= LABEL_CHARACTERS:
        return name
    base, marker, key = name.rpartition(" (#")
    tail = f"{marker}{key}" if marker and key.endswith(")") else ""
    head = base if tail else name
    return head[: LABEL_CHARACTERS - 1 - len(tail)].rstrip() + "…" + tail


def _frame(count: int, top: float) -> tuple[int, float]:
    """The chart's height and the y of its value axis for `count` bars."""
    bottom = top + count * ROW
    return int(bottom + BOTTOM), bottom


def quarters_chart(report: Report, width: int = HTML_WIDTH) -> Chart:
    """Hires per quarter for each department, stacked, departments in alphabetical order."""
    totals = _quarter_totals(report)
    names, labels = department_names(report), department_labels(report)
    keys = sorted(totals, key=lambda key: (names[key], key))
    top = 44.0
    height, axis_y = _frame(len(keys), top)
    largest = max((sum(quarters) for quarters in totals.values()), default=0)
    scale = Scale.fitting(largest, LEFT, width - LEFT - RIGHT)
    bars = [
        _stacked_bar(key, labels[key], totals[key], top + index * ROW, scale)
        for index, key in enumerate(keys)
    ]
    return Chart(
        id="chart-quarters",
        title=f"Employees hired in {report.year} per department, by quarter",
        width=width,
        height=height,
        top=top,
        plot_bottom=axis_y,
        scale=scale,
        axis_title=f"Employees hired in {report.year}",
        legend=[(f"Q{q + 1}", colour) for q, colour in enumerate(QUARTER_COLOURS)],
        bars=bars,
    )


def _quarter_totals(report: Report) -> dict[int, list[int]]:
    """Each department's hires in Q1..Q4 by id, every department included, those without too."""
    totals = {d.id: [0] * 4 for d in report.against.departments}
    for row in report.quarters:
        sums = totals.setdefault(row.department_id, [0] * 4)
        for index, hires in enumerate((row.q1, row.q2, row.q3, row.q4)):
            sums[index] += hires
    return totals


def _stacked_bar(key: int, name: str, quarters: list[int], row_top: float, scale: Scale) -> Bar:
    start, segments = 0, []
    for index, hires in enumerate(quarters):
        if hires:
            x = scale.x(start)
            colour = QUARTER_COLOURS[index]
            segments.append(Segment(x, scale.x(start + hires) - x, colour, f"Q{index + 1}", hires))
            start += hires
    y = row_top + (ROW - BAR_HEIGHT) / 2
    return Bar(key, name, _label(name), y, start, scale.x(start), segments)


def mean_chart(report: Report, width: int = HTML_WIDTH) -> Chart:
    """Every department's hires in the year against the mean, in AgainstMean's order."""
    above = {d.id for d in report.against.above}
    departments = report.against.departments
    top = 56.0
    height, axis_y = _frame(len(departments), top)
    largest = max([d.hired for d in departments] + [report.against.mean or 0])
    scale = Scale.fitting(largest, LEFT, width - LEFT - RIGHT)
    labels = department_labels(report)
    bars = [
        _mean_bar(d, labels[d.id], d.id in above, top + i * ROW, scale)
        for i, d in enumerate(departments)
    ]
    return Chart(
        id="chart-mean",
        title=f"Employees hired in {report.year} per department against the {mean_meaning(report)}",
        width=width,
        height=height,
        top=top,
        plot_bottom=axis_y,
        scale=scale,
        axis_title=f"Employees hired in {report.year}",
        legend=[("above the mean", ABOVE_COLOUR), ("at or below the mean", OTHER_COLOUR)],
        bars=bars,
        mean=report.against.mean,
    )


def _mean_bar(
    department: DepartmentRow, name: str, above: bool, row_top: float, scale: Scale
) -> Bar:
    end = scale.x(department.hired)
    colour = ABOVE_COLOUR if above else OTHER_COLOUR
    hired = department.hired
    segments = [Segment(scale.left, end - scale.left, colour, "hired", hired)] if hired else []
    y = row_top + (ROW - BAR_HEIGHT) / 2
    return Bar(department.id, name, _label(name), y, hired, end, segments, above)


def chart_svg(chart: Chart, font: str = HTML_FONT, standalone: bool = False) -> Markup:
    """The chart as an SVG element, every name escaped.

    `standalone` is for fpdf2: it adds the SVG namespace an XML parser needs (HTML does without)
    and leaves out the tooltips (`<title>`), which fpdf2 does not draw and warns about.
    """
    template = _templates().get_template("chart.svg.j2")
    return Markup(
        template.render(chart=chart, font=font, standalone=standalone, mean_colour=MEAN_COLOUR)
    )


# --- HTML ---------------------------------------------------------------------------------


@cache
def _templates() -> jinja2.Environment:
    # Autoescape for every template, SVG included: names never become markup.
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("hrdata.metrics", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals["years"] = HIRE_YEARS
    return environment


def render_html(report: Report, controls: bool = False) -> str:
    """The report as one HTML5 document that needs no network and no JavaScript.

    `controls` adds the year/mean form and the sign-out button of the page the service serves.
    """
    hiring = has_hires(report)
    charts = [
        (QUARTERS_HEADING, chart_svg(quarters_chart(report))),
        (MEAN_HEADING, chart_svg(mean_chart(report))),
    ]
    template = _templates().get_template("report.html.j2")
    return template.render(
        report=report,
        controls=controls,
        hiring=hiring,
        data_line=data_line(report),
        mean_text=mean_text(report),
        mean_meaning=mean_meaning(report),
        departments=department_labels(report),
        jobs=job_labels(report),
        charts=charts if hiring else [],
    )


def render_login(message: str | None = None) -> str:
    """The sign-in page of the served report, with `message` (escaped) when there is one."""
    return _templates().get_template("login.html.j2").render(message=message)


# --- PDF ----------------------------------------------------------------------------------


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


@cache
def _font_characters() -> frozenset[int]:
    """The code points DejaVu Sans has a glyph for."""
    probe = FPDF()
    probe.add_font(PDF_FONT, "", FONTS / "DejaVuSans.ttf")
    font = probe.fonts[PDF_FONT.lower()]
    assert isinstance(font, TTFFont)
    return frozenset(font.cmap)


def _printable(text: str) -> str:
    # fpdf2 would silently drop a character the font lacks; a '?' shows something was there.
    known = _font_characters()
    return "".join(c if ord(c) in known or c.isspace() else "?" for c in text)


def _printable_report(report: Report) -> Report:
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


def render_pdf(report: Report) -> bytes:
    """The report as an A4 PDF: title, data line, both charts and both tables."""
    report = _printable_report(report)
    pdf = _ReportPDF(f"Hiring metrics {report.year}")
    pdf.add_page()
    pdf.set_font(PDF_FONT, "B", 18)
    pdf.cell(0, 10, f"Hiring metrics {report.year}", new_x="LMARGIN", new_y="NEXT")
    _paragraph(pdf, data_line(report), size=9, colour=80)
    if not has_hires(report):
        pdf.ln(4)
        _heading(pdf, f"No hires in {report.year}")
    else:
        _chart(pdf, QUARTERS_HEADING, quarters_chart(report, PDF_WIDTH))
        _chart(pdf, MEAN_HEADING, mean_chart(report, PDF_WIDTH))
    _heading(pdf, "Departments above the mean")
    _paragraph(pdf, f"Mean: {mean_text(report)} ({mean_meaning(report)}).", size=9, colour=60)
    departments, jobs = department_labels(report), job_labels(report)
    _table(
        pdf,
        ("id", "department", "hired"),
        [(str(d.id), departments[d.id], str(d.hired)) for d in report.against.above],
        widths=(1, 6, 1.5),
        numeric=(True, False, True),
    )
    _heading(pdf, f"Hires by quarter in {report.year}")
    _table(
        pdf,
        ("department", "job", "Q1", "Q2", "Q3", "Q4"),
        [
            (
                departments[r.department_id],
                jobs[r.job_id],
                *(str(q) for q in (r.q1, r.q2, r.q3, r.q4)),
            )
            for r in report.quarters
        ],
        widths=(5, 6, 1, 1, 1, 1),
        numeric=(False, False, True, True, True, True),
    )
    return bytes(pdf.output())


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
    rows: Iterable[Sequence[str]],
    widths: Sequence[float],
    numeric: Sequence[bool],
) -> None:
    """A zebra-striped table whose heading row repeats at the top of every page."""
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
        for values in rows:
            table.row(values)
