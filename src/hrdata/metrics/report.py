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
    hires_in_year,
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
QUARTERS_HEADING = "Employees hired per department, by quarter"
NONE_ABOVE = "No department hired more than the mean"
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
    previous_hires: int | None = None  # in the year before; None when no year comes before


def build_report(conn: psycopg.Connection, year: int, mean_over: MeanOver = "all") -> Report:
    """Both metrics, the year before's hires and the data state, read in one REPEATABLE READ,
    READ ONLY snapshot.

    `conn` may be in autocommit mode or idle; it must not be inside a transaction already.
    """
    # Four statements, one snapshot: the headline, the tables and the data line always agree.
    with snapshot(conn):
        quarters = hires_by_quarter(conn, year)
        against = departments_against_mean(conn, year, mean_over)
        previous = hires_in_year(conn, year - 1) if year > HIRE_YEARS[0] else None
        state = data_state(conn)
    return Report(year, mean_over, quarters, against, state, datetime.now(UTC), previous)


# --- words shared by the page and the PDF -------------------------------------------------


def has_hires(report: Report) -> bool:
    """Whether anyone was hired in the report's year."""
    return bool(report.quarters) or any(d.hired for d in report.against.departments)


def no_hires(report: Report) -> str:
    """What each part of the report says for a year without hires."""
    return f"No hires in {report.year}"


def _count(number: int, word: str, plural: str | None = None) -> str:
    """`1 hire`, `2 hires`, `1,644 hires`."""
    return f"{number:,} {word if number == 1 else plural or word + 's'}"


@dataclass(frozen=True)
class Figure:
    """One number of the headline, and the words after it that say what it counts."""

    id: str
    value: str
    words: str


def headline(report: Report) -> list[Figure]:
    """The year at a glance: its hires, how many departments beat the mean, the change
    against the year before. A year without hires (the page says so) has only the change,
    and only when the year before had hires."""
    hires = sum(row.total for row in report.quarters)
    year, previous = report.year, report.previous_hires
    if previous is None:
        change = Figure("headline-change", "n/a", f"no year before {year} to compare with")
    elif previous == 0:
        change = Figure("headline-change", f"{hires:+,}", f"against {year - 1}, which had no hires")
    else:
        percent = f"{(hires - previous) / previous:+.1%}"
        words = f"against {year - 1} ({_count(previous, 'hire')}, {percent})"
        change = Figure("headline-change", f"{hires - previous:+,}", words)
    if not has_hires(report):
        return [change] if previous else []
    counted = len(report.against.departments)
    mean = report.against.mean or 0.0
    above = len(report.against.above)
    return [
        Figure("headline-hires", f"{hires:,}", f"{'hire' if hires == 1 else 'hires'} in {year}"),
        Figure(
            "headline-above",
            f"{above:,} of {counted:,}",
            f"{'department' if counted == 1 else 'departments'} hired more than the mean, "
            f"{mean:.2f} per department",
        ),
        change,
    ]


@dataclass(frozen=True)
class JobLine:
    """One job of a department in the breakdown: its label and hires per quarter."""

    job_id: int
    label: str
    quarters: tuple[int, int, int, int]

    @property
    def total(self) -> int:
        return sum(self.quarters)


@dataclass(frozen=True)
class DepartmentGroup:
    """One department of the breakdown: its jobs, and their subtotal per quarter."""

    id: int
    label: str
    jobs: list[JobLine]

    @property
    def quarters(self) -> tuple[int, int, int, int]:
        return _sums(job.quarters for job in self.jobs)

    @property
    def total(self) -> int:
        return sum(self.quarters)


def _sums(rows: Iterable[tuple[int, int, int, int]]) -> tuple[int, int, int, int]:
    q1, q2, q3, q4 = (0, 0, 0, 0)
    for row in rows:
        q1, q2, q3, q4 = q1 + row[0], q2 + row[1], q3 + row[2], q4 + row[3]
    return (q1, q2, q3, q4)


def department_groups(report: Report) -> list[DepartmentGroup]:
    """The department and job table as groups, one per department id, in the query's order."""
    departments, jobs = department_labels(report), job_labels(report)
    groups: dict[int, list[JobLine]] = {}
    for row in report.quarters:
        line = JobLine(row.job_id, jobs[row.job_id], row.quarters)
        groups.setdefault(row.department_id, []).append(line)
    return [DepartmentGroup(key, departments[key], lines) for key, lines in groups.items()]


def year_totals(groups: list[DepartmentGroup]) -> tuple[int, int, int, int]:
    """The totals row: every department's hires per quarter, added up."""
    return _sums(group.quarters for group in groups)


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


BOTTOM, BAR_HEIGHT, RIGHT = 48, 16, 56
# A total label's width per digit (11 px text) and the gap around a line it must not touch.
DIGIT_WIDTH, CLEARANCE = 7.0, 4.0


@dataclass(frozen=True)
class Layout:
    """How a chart is laid out: names left of the bars (wide) or above each bar (narrow)."""

    width: int  # SVG user units: pixels in the page
    left: float  # where the bars start
    row: float  # height of one department's row
    bar_top: float  # the bar's offset in its row
    label_characters: int
    names_above: bool = False
    suffix: str = ""  # of the chart's id: both layouts are in the page, CSS shows one


# The PDF draws the wide chart narrower, so its text prints larger. The narrow one is what a
# phone shows: at 400 units across it is drawn near its own size, so its text stays readable.
WIDE = Layout(960, 220, 26, 5, 30)
PDF = replace(WIDE, width=720)
NARROW = Layout(400, 8, 40, 20, 56, names_above=True, suffix="-narrow")


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
    """One department's bar: its id, label, coloured segments and the total after its end."""

    key: int
    name: str
    label: str
    y: float
    total: int
    end: float
    segments: list[Segment]
    above: bool = False
    total_x: float = 0.0  # where the total is written: past the mean line if it would cross it


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
    plot_left: float = WIDE.left
    bar_height: float = BAR_HEIGHT
    names_above: bool = False


def _label(name: str, characters: int) -> str:
    # Long names would run into the bars; the tables below carry them in full. A shared name's
    # id (at the end) is kept whole, so the shortened labels stay distinct.
    if len(name) <= characters:
        return name
    base, marker, key = name.rpartition(" (#")
    tail = f"{marker}{key}" if marker and key.endswith(")") else ""
    head = base if tail else name
    return head[: characters - 1 - len(tail)].rstrip() + "…" + tail


def _total_x(end: float, total: int, mean_x: float | None) -> float:
    """Where a bar's total goes: just after the bar, or just past the mean line when the text
    would otherwise run through it."""
    x = end + 5
    width = DIGIT_WIDTH * len(str(total))
    if mean_x is not None and x - CLEARANCE <= mean_x <= x + width + CLEARANCE:
        return mean_x + CLEARANCE + 1
    return x


def _bar_chart(
    report: Report,
    layout: Layout,
    name: str,
    title: str,
    legend: list[tuple[str, str]],
    top: float,
    rows: list[tuple[int, list[tuple[str, int]], bool]],
    mean: float | None = None,
) -> Chart:
    """A chart of one bar per (department id, segments as (title, hires), above) in `rows`."""
    labels = department_labels(report)
    plot_bottom = top + len(rows) * layout.row
    largest = max([sum(h for _, h in segments) for _, segments, _ in rows] + [mean or 0])
    scale = Scale.fitting(largest, layout.left, layout.width - layout.left - RIGHT)
    mean_x = scale.x(mean) if mean is not None else None
    colours = {f"Q{q + 1}": colour for q, colour in enumerate(QUARTER_COLOURS)}
    bars = []
    for index, (key, parts, above) in enumerate(rows):
        start, segments = 0, []
        for part, hires in parts:
            if hires:
                x = scale.x(start)
                colour = colours.get(part) or (ABOVE_COLOUR if above else OTHER_COLOUR)
                segments.append(Segment(x, scale.x(start + hires) - x, colour, part, hires))
                start += hires
        end = scale.x(start)
        y = top + index * layout.row + layout.bar_top
        label = _label(labels[key], layout.label_characters)
        total_x = _total_x(end, start, mean_x)
        bars.append(Bar(key, labels[key], label, y, start, end, segments, above, total_x))
    return Chart(
        id=f"{name}{layout.suffix}",
        title=title,
        width=layout.width,
        height=int(plot_bottom + BOTTOM),
        top=top,
        plot_bottom=plot_bottom,
        scale=scale,
        axis_title=f"Employees hired in {report.year}",
        legend=legend,
        bars=bars,
        mean=mean,
        plot_left=layout.left,
        names_above=layout.names_above,
    )


def quarters_chart(report: Report, layout: Layout = WIDE) -> Chart:
    """Hires per quarter for each department, stacked, departments in alphabetical order."""
    totals = _quarter_totals(report)
    names = department_names(report)
    keys = sorted(totals, key=lambda key: (names[key], key))
    rows = [(key, [(f"Q{q + 1}", h) for q, h in enumerate(totals[key])], False) for key in keys]
    return _bar_chart(
        report,
        layout,
        "chart-quarters",
        f"Employees hired in {report.year} per department, by quarter",
        [(f"Q{q + 1}", colour) for q, colour in enumerate(QUARTER_COLOURS)],
        44.0,
        rows,
    )


def _quarter_totals(report: Report) -> dict[int, list[int]]:
    """Each department's hires in Q1..Q4 by id, every department included, those without too."""
    totals = {d.id: [0] * 4 for d in report.against.departments}
    for row in report.quarters:
        sums = totals.setdefault(row.department_id, [0] * 4)
        for index, hires in enumerate(row.quarters):
            sums[index] += hires
    return totals


def mean_chart(report: Report, layout: Layout = WIDE) -> Chart:
    """Every department's hires in the year against the mean, in AgainstMean's order."""
    above = {d.id for d in report.against.above}
    rows = [(d.id, [("hired", d.hired)], d.id in above) for d in report.against.departments]
    return _bar_chart(
        report,
        layout,
        "chart-mean",
        f"Employees hired in {report.year} per department against the {mean_meaning(report)}",
        [("above the mean", ABOVE_COLOUR), ("at or below the mean", OTHER_COLOUR)],
        56.0,
        rows,
        report.against.mean,
    )


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
    # Each chart twice, laid out wide and narrow; the style sheet shows the one that fits.
    charts = [
        (heading, chart_svg(make(report)), chart_svg(make(report, NARROW)))
        for heading, make in ((QUARTERS_HEADING, quarters_chart), (MEAN_HEADING, mean_chart))
    ]
    groups = department_groups(report)
    template = _templates().get_template("report.html.j2")
    return template.render(
        report=report,
        controls=controls,
        hiring=hiring,
        no_hires=no_hires(report),
        data_line=data_line(report),
        headline=headline(report),
        mean_text=mean_text(report),
        mean_meaning=mean_meaning(report),
        departments=department_labels(report),
        groups=groups,
        totals=year_totals(groups),
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
    """The report as an A4 PDF: title, data line and headline, both charts, the departments
    above the mean, then the department and job table (with subtotals) as an appendix."""
    report = _printable_report(report)
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
