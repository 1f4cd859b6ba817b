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

from hrdata.api.login_page import render_login
from hrdata.ingest.migrate import migrate
from hrdata.labels import distinct_labels
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
from hrdata.metrics.report import (
    Report,
    build_report,
    render_html,
    render_pdf,
)
from hrdata.metrics.report.chart import mean_chart, quarters_chart
from hrdata.settings import Settings
from tests.support.challenge import (
    expected_above_mean,
    expected_hires,
    expected_mean,
    expected_quarters,
    read,
)
from tests.support.paths import CHALLENGE

HOSTILE = "<script>alert(1)</script>"


class Page(HTMLParser):
    """What a reader of the page sees: table body rows by table id, chart bars by chart id,
    the cells of each `line` (a department's summary, the totals) by its id."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.rows: dict[str, list[list[str]]] = {}
        self.bars: dict[str, list[dict[str, str]]] = {}
        self.lines: dict[str, list[str]] = {}
        self.figures: dict[str, str] = {}  # the text of each headline paragraph, by id
        self.elements: dict[str, dict[str, str]] = {}
        self.texts: list[str] = []
        self._table: str | None = None
        self._chart: str | None = None
        self._line: tuple[str, str] | None = None  # (id, tag)
        self._figure: str | None = None
        self._in_body = False
        self._cell: list[str] | None = None
        self._in_style = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if "id" in attributes:
            self.elements[attributes["id"]] = {"tag": tag, **attributes}
        self._in_style = tag == "style"
        if tag == "p" and attributes.get("id", "").startswith(("headline-", "no-hires")):
            self._figure = attributes["id"]
            self.figures[self._figure] = ""
        if "line" in attributes.get("class", "").split() and "id" in attributes:
            self._line = (attributes["id"], tag)
            self.lines[attributes["id"]] = []
        elif tag == "span" and self._line is not None:
            self._cell = []
        elif tag == "table":
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
        if tag == "p":
            self._figure = None
        if self._line is not None and tag == "span" and self._cell is not None:
            self.lines[self._line[0]].append("".join(self._cell).strip())
            self._cell = None
        elif self._line is not None and tag == self._line[1]:
            self._line = None
        elif tag == "tbody":
            self._in_body = False
        elif tag == "td" and self._cell is not None:
            self.rows[self._table or ""][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "svg":
            self._chart = None

    def handle_data(self, data: str) -> None:
        if not self._in_style:
            self.texts.append(data)
        if self._figure is not None:
            self.figures[self._figure] += data
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
    previous_hires: int | None = 8,
) -> Report:
    """A report as `build_report` would make it; the mean and `above` follow the metric's rule.
    The year before hired 8 (the default year hires 10)."""
    if departments is None:
        departments = [(1, "Accounting", 3), (2, "Søren's Sales", 6), (3, "Łukasz Lab", 1)]
        departments.append((4, "Zero Team", 0))
    if quarters is None:
        quarters = [
            QuarterRow(1, "Accounting", 1, "Clerk", 1, 0, 1, 0),
            QuarterRow(1, "Accounting", 2, "Manager", 0, 1, 0, 0),
            QuarterRow(2, "Søren's Sales", 3, "Seller", 2, 2, 1, 1),
            QuarterRow(3, "Łukasz Lab", 4, "Analyst", 0, 0, 0, 1),
        ]
    rows = sorted((DepartmentRow(*d) for d in departments), key=lambda d: (-d.hired, d.id))
    pool = [d.hired for d in rows if mean_over == "all" or d.hired]
    mean = sum(pool) / len(pool) if pool else None
    above = [d for d in rows if mean is not None and d.hired > mean]
    state = DataState(1930, 12, 183, datetime(2024, 5, 2, 10, 0, tzinfo=UTC))
    generated = datetime(2024, 5, 3, 8, 30, tzinfo=UTC)
    against = AgainstMean(mean, rows, above)
    return Report(year, mean_over, quarters, against, state, generated, previous_hires)


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


def test_each_departments_jobs_are_listed_in_the_given_order_with_their_totals() -> None:
    seen = page(report())

    assert {
        "jobs-1": [["Clerk", "1", "0", "1", "0", "2"], ["Manager", "0", "1", "0", "0", "1"]],
        "jobs-2": [["Seller", "2", "2", "1", "1", "6"]],
        "jobs-3": [["Analyst", "0", "0", "0", "1", "1"]],
    } == {table: rows for table, rows in seen.rows.items() if table.startswith("jobs-")}


def test_each_department_line_shows_the_subtotal_of_its_jobs_per_quarter() -> None:
    seen = page(report())

    assert [
        ["Accounting", "1", "1", "1", "0", "3"],
        ["Søren's Sales", "2", "2", "1", "1", "6"],
        ["Łukasz Lab", "0", "0", "0", "1", "1"],
    ] == [seen.lines[f"department-{key}"] for key in (1, 2, 3)]


def test_the_totals_line_adds_up_every_department() -> None:
    assert ["All departments", "3", "3", "2", "2", "10"] == page().lines["hires-total"]


def test_departments_open_to_their_jobs_without_javascript_and_start_closed() -> None:
    html = render_html(report())
    seen = Page(html)

    assert 3 == html.count('<details class="department"') == html.count('<summary class="line"')
    assert "<details open" not in html and " open>" not in html
    assert all(seen.elements[f"department-{key}"]["tag"] == "summary" for key in (1, 2, 3))


def test_above_mean_table_lists_only_departments_above_the_mean_most_first() -> None:
    # Hires 6, 3, 1, 0: the mean over all four departments is 2.5.
    assert [["2", "Søren's Sales", "6"], ["1", "Accounting", "3"]] == page().rows[
        "departments-above-mean"
    ]


def test_mean_value_is_shown_with_the_above_mean_table() -> None:
    html = render_html(report())

    assert html.index('id="mean"') < html.index('<table id="departments-above-mean"')
    assert "Mean: 2.50 hires per department" in Page(html).text()


# --- HTML: headline --------------------------------------------------------------------------


def figures(seen: Page) -> dict[str, str]:
    """The headline's figures by id, each as its text reads."""
    return {k: " ".join(v.split()) for k, v in seen.figures.items() if k.startswith("headline-")}


def test_headline_gives_hires_departments_above_the_mean_and_the_change() -> None:
    assert {
        "headline-hires": "10 hires in 2021",
        "headline-above": "2 of 4 departments hired more than the mean, 2.50 per department",
        "headline-change": "+2 against 2020 (8 hires, +25.0%)",
    } == figures(page())


def test_headline_change_says_when_the_year_before_had_no_hires() -> None:
    assert (
        "+10 against 2020, which had no hires"
        == figures(page(report(previous_hires=0)))["headline-change"]
    )


def test_headline_change_says_when_no_year_comes_before() -> None:
    assert (
        "n/a no year before 1 to compare with"
        == figures(page(report(year=1, previous_hires=None)))["headline-change"]
    )


def test_headline_of_a_year_without_hires_says_so_then_the_fall() -> None:
    seen = page(report(departments=[(1, "Accounting", 0)], quarters=[], previous_hires=1))

    assert "No hires in 2021" == " ".join(seen.figures["no-hires"].split())
    assert {"headline-change": "-1 against 2020 (1 hire, -100.0%)"} == figures(seen)


def test_headline_comes_before_the_charts_and_tables() -> None:
    html = render_html(report())

    assert html.index('id="headline"') < html.index("<svg") < html.index('id="hires-by-quarter"')


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
def test_each_chart_is_also_drawn_narrow_with_the_same_bars_and_names_above_them(
    chart: str,
) -> None:
    seen = page()
    html = render_html(report())
    narrow = html[html.index(f'<svg id="{chart}-narrow"') :]
    narrow = narrow[: narrow.index("</svg>")]

    assert seen.bars[chart] == seen.bars[f"{chart}-narrow"]
    assert "400" == seen.elements[f"{chart}-narrow"]["width"]
    assert '<g class="names">' in narrow


def test_a_total_that_would_run_into_the_mean_line_is_written_past_it() -> None:
    # Hires 10, 4, 3, 3, 1: the mean 4.2 sits just after the bar of 4, where its total goes.
    hires = [(1, "A", 10), (2, "B", 4), (3, "C", 3), (4, "D", 3), (5, "E", 1)]
    chart = mean_chart(report(departments=hires))
    mean_x = chart.scale.x(4.2)
    bar = next(b for b in chart.bars if b.key == 2)

    assert bar.end < mean_x < bar.end + 5 + 7 + 4
    assert bar.total_x > mean_x
    assert all(b.total_x == b.end + 5 for b in chart.bars if b.key != 2)


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
        quarters=[QuarterRow(1, HOSTILE, 1, f"{HOSTILE} job", 1, 1, 0, 0)],
    )
    html = render_html(source)
    seen = Page(html)

    assert "<script" not in html
    assert [[f"{HOSTILE} job", "1", "1", "0", "0", "2"]] == seen.rows["jobs-1"]
    assert HOSTILE == seen.lines["department-1"][0]
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


def test_year_without_hires_says_so_in_every_section_instead_of_bare_tables() -> None:
    html = render_html(report(departments=[(1, "Accounting", 0)], quarters=[], year=2030))
    empty = Page(html)

    assert "p" == empty.elements["no-hires"]["tag"]
    assert html.count("<section") == html.count("No hires in 2030") == 4
    assert ({}, {}, {}) == (empty.bars, empty.rows, empty.lines)


def test_report_on_an_empty_database_renders() -> None:
    empty = page(report(departments=[], quarters=[]))

    assert "No hires in 2021" in empty.text()


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


@pytest.mark.slow
def test_pdf_repeats_the_quarters_table_heading_on_every_page() -> None:
    many = [QuarterRow(1, "Accounting", n, f"Job {n:03}", 1, 0, 0, 0) for n in range(300)]
    pages = pdf_text(report(departments=[(1, "Accounting", 300)], quarters=many))

    assert 3 <= len(pages)
    assert all("department job Q1 Q2 Q3 Q4" in p for p in pages[1:])
    assert all(f"Job {n:03}" in " ".join(pages) for n in range(300))


def test_pdf_of_a_year_without_hires_says_so_in_every_section() -> None:
    pages = pdf_text(report(departments=[(1, "Accounting", 0)], quarters=[], year=2030))

    assert 1 == len(pages)
    assert 3 == pages[0].count("No hires in 2030")  # the headline, the summary, the appendix
    assert "Q1" not in pages[0]


def test_pdf_reads_headline_charts_summary_then_the_appendix_on_pages_of_its_own() -> None:
    pages = pdf_text(report())
    text = " ".join(pages)
    parts = [
        "10 hires in 2021",
        "Employees hired per department, by quarter",
        "Employees hired per department against the mean",
        "Departments above the mean",
        "Appendix: hires by department and job in 2021",
    ]

    assert sorted(text.index(part) for part in parts) == [text.index(part) for part in parts]
    appendix = next(n for n, p in enumerate(pages) if "Appendix" in p)
    assert 0 < appendix
    assert pages[appendix].startswith("Appendix: hires by department and job in 2021")
    assert "Departments above the mean" not in " ".join(pages[appendix:])


def test_pdf_appendix_gives_each_departments_subtotal_and_a_totals_row() -> None:
    text = " ".join(pdf_text(report()))

    for line in (
        "Accounting subtotal 1 1 1 0 3",
        "Søren's Sales subtotal 2 2 1 1 6",
        "Łukasz Lab subtotal 0 0 0 1 1",
        "All departments total 3 3 2 2 10",
    ):
        assert line in text
    assert text.index("Accounting Manager") < text.index("Accounting subtotal")


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


# --- departments and jobs that share a name -------------------------------------------------


def test_a_name_gets_its_id_only_when_another_id_shares_it() -> None:
    labels = distinct_labels([(11, "Legal"), (13, " legal "), (20, "Other")])

    assert {11: "Legal (#11)", 13: " legal  (#13)", 20: "Other"} == labels


@pytest.mark.parametrize("chart", ["chart-quarters", "chart-mean"])
def test_departments_sharing_a_name_get_a_bar_each_labelled_with_their_ids(
    db: psycopg.Connection, namesakes: None, chart: str
) -> None:
    bars = page(build_report(db, 2021)).bars[chart]

    assert [("11", "Legal (#11)", "3"), ("13", "Legal (#13)", "2"), ("20", "Other", "0")] == [
        (bar["data-department-id"], bar["data-department"], bar["data-hired"]) for bar in bars
    ]


def test_tables_show_departments_and_jobs_sharing_a_name_as_rows_of_their_own(
    db: psycopg.Connection, namesakes: None
) -> None:
    seen = page(build_report(db, 2021))

    assert [
        ("Legal (#11)", [["Clerk (#1)", "3", "0", "0", "0", "3"]]),
        ("Legal (#13)", [["Clerk (#2)", "0", "2", "0", "0", "2"]]),
    ] == [(seen.lines[f"department-{key}"][0], seen.rows[f"jobs-{key}"]) for key in (11, 13)]
    assert [["11", "Legal (#11)", "3"], ["13", "Legal (#13)", "2"]] == seen.rows[
        "departments-above-mean"
    ]


def test_pdf_labels_departments_sharing_a_name_with_their_ids(
    db: psycopg.Connection, namesakes: None
) -> None:
    text = " ".join(pdf_text(build_report(db, 2021)))

    assert "Legal (#11)" in text
    assert "Legal (#13)" in text


def test_a_long_shared_name_is_shortened_in_a_chart_but_keeps_its_id() -> None:
    name = "Department of Very Long Names and More"
    source = report(departments=[(1, name, 1), (2, name, 1)], quarters=[])

    labels = [bar.label for bar in quarters_chart(source).bars]

    assert ["Department of Very Long… (#1)", "Department of Very Long… (#2)"] == labels


# --- the headline and the breakdown on the original export ----------------------------------


@pytest.fixture
def export(settings: Settings, db: psycopg.Connection) -> None:
    migrate(settings, [str(CHALLENGE)])


def test_headline_on_the_export_matches_the_independent_count(
    db: psycopg.Connection, export: None
) -> None:
    hires, mean, above = expected_hires(2021), expected_mean(2021), expected_above_mean(2021)
    departments = len(read("departments.csv"))

    assert {
        "headline-hires": f"{hires:,} hires in 2021",
        "headline-above": f"{len(above)} of {departments} departments hired more than the mean, "
        f"{mean:.2f} per department",
        "headline-change": f"+{hires:,} against 2020, which had no hires",
    } == figures(page(build_report(db, 2021)))
    assert "1,644 hires in 2021" == figures(page(build_report(db, 2021)))["headline-hires"]


def test_headline_change_on_the_export_is_against_the_year_before(
    db: psycopg.Connection, export: None
) -> None:
    before, after = expected_hires(2021), expected_hires(2022)

    change = (
        f"{after - before:+,} against 2021 ({before:,} hires, {(after - before) / before:+.1%})"
    )
    assert change == figures(page(build_report(db, 2022)))["headline-change"]


def summed(label: str, rows: list[QuarterRow]) -> list[str]:
    """A breakdown line as the page shows it: the label, each quarter's sum, their total."""
    quarters = [sum(r.quarters[q] for r in rows) for q in range(4)]
    return [label] + [f"{n:,}" for n in (*quarters, sum(quarters))]


def test_subtotals_and_totals_on_the_export_add_up_the_independent_counts(
    db: psycopg.Connection, export: None
) -> None:
    expected = expected_quarters(2021)
    by_department: dict[int, list[QuarterRow]] = {}
    for row in expected:
        by_department.setdefault(row.department_id, []).append(row)

    seen = page(build_report(db, 2021))

    assert [summed(rows[0].department, rows) for rows in by_department.values()] == [
        seen.lines[f"department-{key}"] for key in by_department
    ]
    assert summed("All departments", expected) == seen.lines["hires-total"]
    assert len(expected) == sum(len(seen.rows[f"jobs-{key}"]) for key in by_department)


@pytest.mark.slow
def test_pdf_on_the_export_ends_with_the_appendix_totals_row(
    db: psycopg.Connection, export: None
) -> None:
    last = pdf_text(build_report(db, 2021))[-1]

    total = " ".join(summed("All departments", expected_quarters(2021)))
    assert total.replace("All departments", "All departments total") in last
