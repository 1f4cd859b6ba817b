"""The visual report: one self-contained HTML page, an A4 PDF and the sign-in page, rendered
from hand-built reports; `build_report` against a real database."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from html.parser import HTMLParser

import psycopg
import pypdf
import pytest

from hrdata.metrics.queries import (
    AgainstMean,
    DataState,
    DepartmentRow,
    MeanOver,
    QuarterRow,
    data_state,
    departments_against_mean,
    hires_by_quarter,
)
from hrdata.metrics.report import Report, build_report, render_html, render_login, render_pdf

HOSTILE = "<script>alert(1)</script>"


class Page(HTMLParser):
    """What a reader of the page sees: table body rows by table id, chart bars by chart id."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.rows: dict[str, list[list[str]]] = {}
        self.bars: dict[str, list[dict[str, str]]] = {}
        self.elements: dict[str, dict[str, str]] = {}
        self.texts: list[str] = []
        self._table: str | None = None
        self._chart: str | None = None
        self._in_body = False
        self._cell: list[str] | None = None
        self._in_style = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if "id" in attributes:
            self.elements[attributes["id"]] = {"tag": tag, **attributes}
        self._in_style = tag == "style"
        if tag == "table":
            self._table = attributes.get("id")
            self.rows[self._table or ""] = []
        elif tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self.rows[self._table or ""].append([])
        elif tag == "td" and self._in_body:
            self._cell = []
        elif tag == "svg":
            self._chart = attributes.get("id")
            self.bars[self._chart or ""] = []
        elif tag == "g" and self._chart and "bar" in attributes.get("class", "").split():
            self.bars[self._chart].append(attributes)

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False
        if tag == "tbody":
            self._in_body = False
        elif tag == "td" and self._cell is not None:
            self.rows[self._table or ""][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "svg":
            self._chart = None

    def handle_data(self, data: str) -> None:
        if not self._in_style:
            self.texts.append(data)
        if self._cell is not None:
            self._cell.append(data)

    def text(self) -> str:
        """The page's text as a browser runs it together, style sheet left out."""
        return " ".join("".join(self.texts).split())


def report(
    departments: list[tuple[int, str, int]] | None = None,
    quarters: list[QuarterRow] | None = None,
    year: int = 2021,
    mean_over: MeanOver = "all",
) -> Report:
    """A report as `build_report` would make it; the mean and `above` follow the metric's rule."""
    if departments is None:
        departments = [(1, "Accounting", 3), (2, "Søren's Sales", 6), (3, "Łukasz Lab", 1)]
        departments.append((4, "Zero Team", 0))
    if quarters is None:
        quarters = [
            QuarterRow("Accounting", "Clerk", 1, 0, 1, 0),
            QuarterRow("Accounting", "Manager", 0, 1, 0, 0),
            QuarterRow("Søren's Sales", "Seller", 2, 2, 1, 1),
            QuarterRow("Łukasz Lab", "Analyst", 0, 0, 0, 1),
        ]
    rows = sorted((DepartmentRow(*d) for d in departments), key=lambda d: (-d.hired, d.id))
    pool = [d.hired for d in rows if mean_over == "all" or d.hired]
    mean = sum(pool) / len(pool) if pool else None
    above = [d for d in rows if mean is not None and d.hired > mean]
    state = DataState(1930, 12, 183, datetime(2024, 5, 2, 10, 0, tzinfo=UTC))
    generated = datetime(2024, 5, 3, 8, 30, tzinfo=UTC)
    return Report(year, mean_over, quarters, AgainstMean(mean, rows, above), state, generated)


def page(source: Report | None = None, controls: bool = False) -> Page:
    return Page(render_html(source or report(), controls=controls))


def pdf_text(source: Report) -> list[str]:
    """The text of every page of the report's PDF."""
    return [p.extract_text() for p in pypdf.PdfReader(io.BytesIO(render_pdf(source))).pages]


# --- HTML: content ---------------------------------------------------------------------------


def test_html_report_is_one_html5_document_titled_with_the_year() -> None:
    html = render_html(report())

    assert html.startswith("<!DOCTYPE html>")
    assert 1 == html.count("<html")
    assert "<title>Hiring metrics 2021</title>" in html


def test_html_report_says_which_data_it_reflects() -> None:
    line = page(report()).text()

    for fact in (
        "1,930 hired_employees rows",
        "12 departments",
        "183 jobs",
        "latest change 2024-05-02T10:00:00Z (UTC)",
        "Generated 2024-05-03T08:30:00Z",
        "mean over all departments, those without hires counting 0",
    ):
        assert fact in line


def test_html_report_names_the_mean_over_hiring_departments() -> None:
    text = page(report(mean_over="hiring")).text()

    assert "mean over departments that hired in 2021" in text


def test_quarters_table_lists_every_row_in_the_given_order() -> None:
    source = report()

    expected = [
        [r.department, r.job, str(r.q1), str(r.q2), str(r.q3), str(r.q4)] for r in source.quarters
    ]
    assert expected == page(source).rows["hires-by-quarter"]


def test_above_mean_table_lists_only_departments_above_the_mean_most_first() -> None:
    # Hires 6, 3, 1, 0: the mean over all four departments is 2.5.
    assert [["2", "Søren's Sales", "6"], ["1", "Accounting", "3"]] == page().rows[
        "departments-above-mean"
    ]


def test_mean_value_is_shown_with_the_above_mean_table() -> None:
    html = render_html(report())

    assert html.index('id="mean"') < html.index('<table id="departments-above-mean"')
    assert "Mean: 2.50 hires per department" in Page(html).text()


# --- HTML: charts ----------------------------------------------------------------------------


def test_quarters_chart_has_one_bar_per_department_in_alphabetical_order() -> None:
    bars = page().bars["chart-quarters"]

    expected = ["Accounting", "Søren's Sales", "Zero Team", "Łukasz Lab"]
    assert expected == [bar["data-department"] for bar in bars]


def test_quarters_chart_bars_add_up_each_departments_jobs() -> None:
    bars = page().bars["chart-quarters"]

    assert {"Accounting": "3", "Søren's Sales": "6", "Zero Team": "0", "Łukasz Lab": "1"} == {
        bar["data-department"]: bar["data-hired"] for bar in bars
    }


def test_quarters_chart_has_a_legend_for_each_quarter() -> None:
    html = render_html(report())
    chart = html[html.index('<svg id="chart-quarters"') : html.index("</svg>")]

    assert all(f">Q{q}</text>" in chart for q in (1, 2, 3, 4))


def test_mean_chart_has_one_bar_per_department_in_against_mean_order() -> None:
    bars = page().bars["chart-mean"]

    expected = ["Søren's Sales", "Accounting", "Łukasz Lab", "Zero Team"]
    assert expected == [bar["data-department"] for bar in bars]


def test_mean_chart_marks_the_bars_above_the_mean() -> None:
    bars = page().bars["chart-mean"]

    marked = [b["data-department"] for b in bars if "above" in b["class"].split()]
    assert ["Søren's Sales", "Accounting"] == marked
    assert ["true", "true", "false", "false"] == [b["data-above"] for b in bars]


def test_mean_chart_draws_a_dashed_line_labelled_with_the_mean() -> None:
    html = render_html(report())
    line = html[html.index('<g class="mean-line"') :]
    line = line[: line.index("</g>")]

    assert 'data-mean="2.50"' in line
    assert "stroke-dasharray" in line
    assert "mean 2.50</text>" in line


@pytest.mark.parametrize("chart", ["chart-quarters", "chart-mean"])
def test_charts_are_labelled_images(chart: str) -> None:
    svg = page().elements[chart]

    assert "img" == svg["role"]
    assert svg["aria-label"]
    assert f'<svg id="{chart}"' in render_html(report())


# --- HTML: safety and self-containment ------------------------------------------------------


def test_hostile_names_appear_as_text_not_markup() -> None:
    source = report(
        departments=[(1, HOSTILE, 2), (2, "B & C", 0)],
        quarters=[QuarterRow(HOSTILE, f"{HOSTILE} job", 1, 1, 0, 0)],
    )
    html = render_html(source)
    seen = Page(html)

    assert "<script" not in html
    assert [[HOSTILE, f"{HOSTILE} job", "1", "1", "0", "0"]] == seen.rows["hires-by-quarter"]
    assert [["1", HOSTILE, "2"]] == seen.rows["departments-above-mean"]
    assert HOSTILE == seen.bars["chart-mean"][0]["data-department"]


def test_html_report_needs_no_network() -> None:
    html = render_html(report(), controls=True)

    assert [] == re.findall(r"https?:|//[a-z]|\bsrc=|<link|url\(|@import", html, re.IGNORECASE)


def test_html_report_has_no_script() -> None:
    assert "<script" not in render_html(report(), controls=True).lower()


def test_controls_appear_only_when_asked() -> None:
    plain, served = page(controls=False).elements, page(controls=True).elements

    assert not {"report-controls", "logout"} & set(plain)
    assert {"report-controls", "logout"} <= set(served)


def test_controls_choose_year_and_mean_and_sign_out() -> None:
    html = render_html(report(year=2022, mean_over="hiring"), controls=True)
    form = html[html.index('<form id="report-controls"') : html.index("</form>")]

    assert 'method="get" action="/reports"' in form
    assert 'type="number" name="year" value="2022"' in form
    assert '<select name="mean_over">' in form
    assert '<option value="hiring" selected>' in form
    assert '<form id="logout" method="post" action="/reports/logout">' in html
    assert "Sign out</button>" in html


def test_year_without_hires_says_so_instead_of_charts() -> None:
    empty = page(report(departments=[(1, "Accounting", 0)], quarters=[], year=2030))

    assert "p" == empty.elements["no-hires"]["tag"]
    assert "No hires in 2030" in empty.text()
    assert {} == empty.bars
    assert [] == empty.rows["hires-by-quarter"]
    assert [] == empty.rows["departments-above-mean"]


def test_report_on_an_empty_database_renders() -> None:
    empty = page(report(departments=[], quarters=[]))

    assert "No hires in 2021" in empty.text()
    assert "none (no department to average over)" in empty.text()


# --- sign-in page ---------------------------------------------------------------------------


def test_login_page_posts_the_key_from_a_password_field() -> None:
    html = render_login()
    form = html[html.index('<form id="login"') : html.index("</form>")]

    assert 'method="post" action="/reports/login"' in form
    assert 'type="password" name="key" autocomplete="current-password"' in form
    assert "Sign in</button>" in form
    assert "login-message" not in Page(html).elements


def test_login_page_explains_the_key_and_the_cookie() -> None:
    text = Page(render_login()).text()

    assert "role is read (or admin)" in text
    assert "the cookie holds only its token, never the key" in text


def test_login_message_is_shown_escaped() -> None:
    html = render_login(f"Bad key {HOSTILE}")

    assert "<script" not in html
    assert "login-message" in Page(html).elements
    assert f"Bad key {HOSTILE}" in Page(html).text()


# --- PDF ------------------------------------------------------------------------------------


def test_pdf_is_a_pdf_document() -> None:
    document = render_pdf(report())

    assert document.startswith(b"%PDF-")
    assert 1 <= len(pypdf.PdfReader(io.BytesIO(document)).pages)


def test_pdf_pages_are_a4() -> None:
    first = pypdf.PdfReader(io.BytesIO(render_pdf(report()))).pages[0]

    assert (595, 842) == (round(first.mediabox.width), round(first.mediabox.height))


def test_pdf_shows_department_names_in_any_european_script() -> None:
    text = " ".join(pdf_text(report()))

    assert all(name in text for name in ("Accounting", "Søren's Sales", "Łukasz Lab"))


def test_pdf_draws_both_charts_with_their_text() -> None:
    first_page = pdf_text(report())[0]

    assert "Q1" in first_page  # the quarters chart's legend
    assert "mean 2.50" in first_page  # the mean line's label
    assert "above the mean" in first_page


def test_pdf_replaces_characters_its_font_lacks_instead_of_failing() -> None:
    text = " ".join(pdf_text(report(departments=[(1, "研究 Lab 🚀", 1)], quarters=[])))

    assert "?? Lab ?" in text


def test_pdf_repeats_the_quarters_table_heading_on_every_page() -> None:
    many = [QuarterRow("Accounting", f"Job {n:03}", 1, 0, 0, 0) for n in range(300)]
    pages = pdf_text(report(departments=[(1, "Accounting", 300)], quarters=many))

    assert 3 <= len(pages)
    assert all("department job Q1 Q2 Q3 Q4" in p for p in pages[1:])
    assert all(f"Job {n:03}" in " ".join(pages) for n in range(300))


def test_pdf_of_a_year_without_hires_says_so() -> None:
    text = pdf_text(report(departments=[(1, "Accounting", 0)], quarters=[], year=2030))

    assert "No hires in 2030" in text[0]


# --- build_report ---------------------------------------------------------------------------


@pytest.fixture
def hires(db: psycopg.Connection) -> None:
    db.execute("INSERT INTO departments VALUES (1, 'Søren''s Sales'), (2, 'Accounting'), (3, 'Z')")
    db.execute("INSERT INTO jobs VALUES (1, 'Clerk'), (2, 'Analyst')")
    db.execute(
        """INSERT INTO hired_employees VALUES
        (1, 'a', '2021-01-05T10:00:00Z', 1, 1), (2, 'b', '2021-05-05T10:00:00Z', 1, 2),
        (3, 'c', '2021-11-05T10:00:00Z', 1, 1), (4, 'd', '2021-07-05T10:00:00Z', 2, 1),
        (5, 'e', '2020-07-05T10:00:00Z', 2, 1)"""
    )


@pytest.mark.parametrize("mean_over", ["all", "hiring"])
def test_build_report_reads_what_the_query_functions_read(
    db: psycopg.Connection, hires: None, mean_over: MeanOver
) -> None:
    built = build_report(db, 2021, mean_over)

    assert (2021, mean_over) == (built.year, built.mean_over)
    assert hires_by_quarter(db, 2021) == built.quarters
    assert departments_against_mean(db, 2021, mean_over) == built.against
    assert data_state(db) == built.state


def test_build_report_on_a_connection_outside_autocommit_leaves_it_idle(
    db: psycopg.Connection, hires: None
) -> None:
    db.autocommit = False

    built = build_report(db, 2021)

    assert psycopg.pq.TransactionStatus.IDLE == db.info.transaction_status
    assert [DepartmentRow(1, "Søren's Sales", 3)] == built.against.above


def test_build_report_stamps_the_time_in_utc(db: psycopg.Connection, hires: None) -> None:
    before = datetime.now(UTC)

    built = build_report(db, 2021)

    assert UTC == built.generated_at.tzinfo
    assert before <= built.generated_at <= datetime.now(UTC)
