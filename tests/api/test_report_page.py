"""The report page of a running `hrdata serve`, in headless Chromium: sign in, read, sign out."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from hrdata.auth import create_key
from hrdata.ingest.migrate import migrate
from hrdata.settings import Settings
from tests.support.challenge import expected_above_mean, expected_quarters
from tests.support.paths import CHALLENGE
from tests.support.servers import start_server, stop

# Every test drives a real server in headless Chromium: seconds each.
pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium")
# Chromium as root needs --no-sandbox; the rest keep it off this machine's closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert CHROMIUM, "no chromium: scripts/system-packages installs it (make test runs it)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def service(settings: Settings, db: psycopg.Connection, tmp_path: Path) -> Iterator[str]:
    migrate(settings, [str(CHALLENGE)])
    process, url, _ = start_server(settings, tmp_path)
    yield url
    stop(process)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()


def sign_in(page: Page, url: str, key: str) -> None:
    page.goto(f"{url}/reports?year=2021")
    page.fill("#login input[name=key]", key)
    page.click("#login button[type=submit], #login input[type=submit]")
    page.wait_for_load_state()


def test_the_report_page_shows_both_tables_and_charts_after_signing_in(
    page: Page, service: str, db: psycopg.Connection, tmp_path: Path
) -> None:
    key = create_key(db, "read", "browser")[1]

    sign_in(page, service, key)

    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    quarters = expected_quarters(2021)
    above = expected_above_mean(2021)
    assert len(quarters) == page.locator("#hires-by-quarter tbody tr").count()
    first = page.locator("#hires-by-quarter tbody tr").first.locator("td").all_text_contents()
    assert quarters[0].job == first[0]
    assert (
        quarters[0].department == page.locator("#hires-by-quarter summary .name").first.inner_text()
    )
    assert [str(r.id) for r in above] == [
        row.locator("td").first.inner_text()
        for row in page.locator("#departments-above-mean tbody tr").all()
    ]
    assert page.locator("svg#chart-quarters rect").count() >= 12
    assert page.locator("svg#chart-mean line").count() >= 1
    assert page.locator("#chart-quarters").is_visible()
    assert page.locator("#chart-mean").is_visible()


def test_the_browser_keeps_a_session_token_in_an_http_only_cookie_never_the_key(
    page: Page, service: str, db: psycopg.Connection
) -> None:
    key = create_key(db, "read", "browser")[1]

    sign_in(page, service, key)

    cookies = page.context.cookies()
    assert key not in page.url
    assert [("hrdata_session", True, "Strict", "/reports")] == [
        (c["name"], c["httpOnly"], c["sameSite"], c["path"]) for c in cookies
    ]
    assert key not in cookies[0]["value"] and key not in page.content()


def test_a_wrong_key_keeps_the_login_form_with_a_message(
    page: Page, service: str, db: psycopg.Connection
) -> None:
    create_key(db, "read", "browser")

    sign_in(page, service, "hrd_000000000000_not-a-real-secret")

    assert page.locator("#login").is_visible()
    assert page.locator("#login-message").inner_text().strip()
    assert 0 == page.locator("#hires-by-quarter").count()


def test_an_ingest_key_may_not_read_the_report(
    page: Page, service: str, db: psycopg.Connection
) -> None:
    sign_in(page, service, create_key(db, "ingest", "a loader")[1])

    assert page.locator("#login").is_visible()
    assert 0 == page.locator("#hires-by-quarter").count()


def test_changing_the_year_in_the_page_shows_that_year(
    page: Page, service: str, db: psycopg.Connection
) -> None:
    sign_in(page, service, create_key(db, "read", "browser")[1])

    page.fill("#report-controls input[name=year]", "2020")
    page.click("#report-controls button[type=submit], #report-controls input[type=submit]")
    page.wait_for_load_state()

    assert "year=2020" in page.url
    assert 0 == page.locator("#hires-by-quarter tbody tr").count()


def test_signing_out_forgets_the_key(page: Page, service: str, db: psycopg.Connection) -> None:
    sign_in(page, service, create_key(db, "read", "browser")[1])

    page.click("#logout button, #logout input[type=submit]")
    page.wait_for_load_state()
    page.goto(f"{service}/reports")

    assert page.locator("#login").is_visible()
    assert [] == page.context.cookies()


def test_the_page_offers_the_same_report_as_a_pdf(
    page: Page, service: str, db: psycopg.Connection, tmp_path: Path
) -> None:
    sign_in(page, service, create_key(db, "read", "browser")[1])

    with page.expect_download() as download:
        page.click("#pdf-link")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)

    assert "hrdata-report-2021.pdf" == saved.name
    assert saved.read_bytes().startswith(b"%PDF")


def test_a_department_opens_to_its_jobs_when_its_line_is_clicked(
    page: Page, service: str, db: psycopg.Connection
) -> None:
    sign_in(page, service, create_key(db, "read", "browser")[1])
    first, last = expected_quarters(2021)[0], expected_quarters(2021)[-1]
    jobs = page.locator(f"#jobs-{first.department_id} tbody tr")
    closed = jobs.first.is_visible()

    page.click(f"#department-{first.department_id}")

    assert (False, True) == (closed, jobs.first.is_visible())
    assert not page.locator(f"#jobs-{last.department_id} tbody tr").first.is_visible()


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    """A page 420 CSS pixels wide, as a phone shows it."""
    context = browser.new_context(viewport={"width": 420, "height": 900})
    yield context.new_page()
    context.close()


def test_at_420_px_wide_the_page_has_no_horizontal_overflow(
    phone: Page, service: str, db: psycopg.Connection, tmp_path: Path
) -> None:
    sign_in(phone, service, create_key(db, "read", "browser")[1])
    phone.click("#hires-by-quarter summary >> nth=0")  # a department open: its jobs fit too

    phone.screenshot(path=str(tmp_path / "report-420.png"), full_page=True)

    assert phone.evaluate("document.documentElement.scrollWidth") <= 420


def test_at_420_px_wide_the_charts_are_drawn_narrow_at_a_readable_size(
    phone: Page, service: str, db: psycopg.Connection
) -> None:
    sign_in(phone, service, create_key(db, "read", "browser")[1])

    for chart in ("chart-quarters", "chart-mean"):
        narrow = phone.locator(f"#{chart}-narrow")
        box = narrow.bounding_box()
        assert (False, True) == (phone.locator(f"#{chart}").is_visible(), narrow.is_visible())
        assert box is not None and box["width"] / 400 >= 0.85  # 12 px text shows at 10 px or more
