"""The desktop client's logic (API calls, batching, resume, error messages, remembered
connection) against a real `hrdata serve` on the real test database."""

from __future__ import annotations

import os
import stat
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import psycopg
import pytest

from hrdata.auth import create_key
from hrdata.gui import config
from hrdata.gui.client import ApiClient, ApiError
from hrdata.gui.export import save_csv
from hrdata.gui.tasks import Task, Tasks
from hrdata.gui.uploader import Reject, Upload, UploadProgress
from hrdata.ingest.migrate import migrate
from hrdata.settings import Settings
from hrdata.wire import DepartmentRow, QuarterRow, Reason
from tests.support.challenge import expected_above_mean, expected_mean, expected_quarters
from tests.support.fixture_types import RowsIn
from tests.support.paths import CHALLENGE
from tests.support.servers import free_port, start_server, stop


class Recording(httpx.HTTPTransport):
    """The real HTTP transport, recording each batch posted (its Idempotency-Key and rows);
    with `lose_answer_to` = n, the n-th batch reaches the server but its answer is lost."""

    def __init__(self, lose_answer_to: int | None = None) -> None:
        super().__init__()
        self.posted: list[tuple[str, int]] = []
        self.lose_answer_to = lose_answer_to

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.method == "POST" and request.url.path.endswith("/rows"):
            body = request.read()
            self.posted.append((request.headers["Idempotency-Key"], body.count(b"\n") - 1))
            if len(self.posted) == self.lose_answer_to:
                response.read()
                raise httpx.ReadError("connection reset by peer")
        return response


@pytest.fixture
def server(settings: Settings, db: psycopg.Connection, tmp_path: Path) -> Iterator[str]:
    process, url, _ = start_server(settings, tmp_path)
    yield url
    stop(process)


@pytest.fixture
def admin_key(db: psycopg.Connection) -> str:
    return create_key(db, "admin", "gui admin")[1]


@pytest.fixture
def client(server: str, admin_key: str) -> Iterator[ApiClient]:
    with ApiClient(server, admin_key) as api:
        yield api


@pytest.fixture
def parents(settings: Settings, db: psycopg.Connection) -> None:
    """Departments and jobs of the original export, loaded."""
    migrate(settings, [str(CHALLENGE / "departments.csv"), str(CHALLENGE / "jobs.csv")])


def departments_csv(path: Path, rows: int) -> Path:
    path.write_text("".join(f"{i},Department {i}\r\n" for i in range(1, rows + 1)))
    return path


@pytest.mark.slow
def test_upload_sends_2500_rows_in_batches_of_1000_1000_and_500(
    server: str, admin_key: str, rows_in: RowsIn, tmp_path: Path
) -> None:
    """A file is split into batches of at most 1000 rows, and every row lands once."""
    transport = Recording()
    source = departments_csv(tmp_path / "departments.csv", 2500)

    with ApiClient(server, admin_key, transport=transport) as client:
        result = Upload(client, source, "departments", journal_dir=tmp_path / "j").run()

    assert [1000, 1000, 500] == [rows for _, rows in transport.posted]
    assert (2500, 2500, 0, []) == (
        rows_in("departments"),
        result.inserted,
        result.skipped,
        result.rejects,
    )


@pytest.mark.slow
def test_rejects_name_their_file_line_across_a_header_blank_lines_and_batches(
    client: ApiClient, rows_in: RowsIn, tmp_path: Path
) -> None:
    """Rejected rows come back with the line of the file they are on, and every reason."""
    source = tmp_path / "departments.csv"
    source.write_bytes(b"id,department\r\n1,Sales\r\n\r\n,\r\n2,Legal\r\n 3 , \r\n\r\n4,a,b\r\n")

    result = Upload(client, source, "departments", journal_dir=tmp_path, batch_rows=2).run()

    assert [
        Reject(
            4,
            ("", ""),
            (
                Reason("missing", "id is empty", "id"),
                Reason("missing", "department is empty", "department"),
            ),
        ),
        Reject(6, (" 3 ", " "), (Reason("missing", "department is empty", "department"),)),
        Reject(8, ("4", "a", "b"), (Reason("wrong_field_count", "expected 2 fields, found 3"),)),
    ] == result.rejects
    assert (3, 2) == (result.batches_total, rows_in("departments"))


@pytest.mark.slow
def test_rejects_of_the_original_export_are_the_lines_with_empty_fields(
    client: ApiClient, rows_in: RowsIn, parents: None, tmp_path: Path
) -> None:
    """hired_employees.csv (headerless, CRLF, 1999 rows): every line with an empty field is
    rejected under its own line number, naming each empty column."""
    source = CHALLENGE / "hired_employees.csv"
    lines = source.read_text().splitlines()
    columns = ("id", "name", "datetime", "department_id", "job_id")
    expected = {
        number: sorted(c for c, v in zip(columns, line.split(","), strict=True) if not v)
        for number, line in enumerate(lines, start=1)
        if "" in line.split(",")
    }

    result = Upload(client, source, "hired_employees", journal_dir=tmp_path).run()

    assert expected == {
        r.line: sorted(reason.column or "" for reason in r.reasons) for r in result.rejects
    }
    assert len(lines) - len(expected) == rows_in("hired_employees") == result.inserted


@pytest.mark.slow
def test_resume_after_a_lost_answer_sends_no_acknowledged_batch_again_and_inserts_once(
    server: str, admin_key: str, rows_in: RowsIn, tmp_path: Path
) -> None:
    """Batch 2 reaches the server but its answer is lost: resuming sends batch 2 again with
    the same Idempotency-Key (answered from the server's store) and then batch 3, never batch 1."""
    source = departments_csv(tmp_path / "departments.csv", 2500)
    failing = Recording(lose_answer_to=2)
    with ApiClient(server, admin_key, transport=failing) as client:
        upload = Upload(client, source, "departments", journal_dir=tmp_path / "j")
        with pytest.raises(ApiError, match="the connection was lost"):
            upload.run()
        pending = upload.pending()
    again = Recording()

    with ApiClient(server, admin_key, transport=again) as client:
        result = Upload(client, source, "departments", journal_dir=tmp_path / "j").run(resume=True)

    sent_then = [key for key, _ in failing.posted]
    sent_now = [key for key, _ in again.posted]
    assert pending is not None and (1, 3) == (pending.batches_done, pending.batches_total)
    assert (sent_then[1], 2, False) == (sent_now[0], len(sent_now), sent_then[0] in sent_now)
    assert (2, 1) == (result.batches_sent, result.batches_resumed)
    assert (2500, 2500) == (rows_in("departments"), result.inserted)


@pytest.mark.slow
def test_cancel_stops_between_batches_and_resume_sends_the_rest(
    client: ApiClient, rows_in: RowsIn, tmp_path: Path
) -> None:
    """Cancelling after the first batch leaves 1000 rows and a journal; resume adds the rest."""
    source = departments_csv(tmp_path / "departments.csv", 2500)
    upload = Upload(client, source, "departments", journal_dir=tmp_path / "j")
    cancel = threading.Event()

    def after_batch(progress: UploadProgress) -> None:
        if progress.batches_done == 1:
            cancel.set()

    cancelled = upload.run(on_progress=after_batch, cancel=cancel)
    rows_then = rows_in("departments")
    resumed = upload.run(resume=True)

    assert ("cancelled", 1000) == (cancelled.status, rows_then)
    assert ("completed", 2, 1, 2500) == (
        resumed.status,
        resumed.batches_sent,
        resumed.batches_resumed,
        rows_in("departments"),
    )


@pytest.mark.slow
def test_finished_upload_leaves_no_journal(client: ApiClient, tmp_path: Path) -> None:
    """Nothing is left to resume once every batch was acknowledged."""
    source = departments_csv(tmp_path / "departments.csv", 10)
    upload = Upload(client, source, "departments", journal_dir=tmp_path / "j")

    upload.run()

    assert (None, []) == (upload.pending(), list((tmp_path / "j").iterdir()))


@pytest.mark.slow
def test_wrong_key_is_a_readable_401(server: str, db: psycopg.Connection) -> None:
    """A key the server does not know: the API's message and the status, no traceback."""
    with ApiClient(server, "hrd_0123456789ab_" + "x" * 43) as client, pytest.raises(ApiError) as e:
        client.me()

    assert ("invalid API key (401 Unauthorized)", 401) == (e.value.message, e.value.status)


def test_server_down_is_cannot_reach(admin_key: str) -> None:
    """Nothing listening at the URL: 'cannot reach' it, connection refused."""
    url = f"http://127.0.0.1:{free_port()}"

    with ApiClient(url, admin_key) as client, pytest.raises(ApiError) as e:
        client.me()

    assert f"cannot reach {url}: connection refused (is `hrdata serve` running?)" == e.value.message


@pytest.mark.slow
def test_read_key_posting_rows_is_a_readable_403(
    server: str, db: psycopg.Connection, tmp_path: Path
) -> None:
    """A read key may not post rows: the upload stops with the API's explanation."""
    caller, token = create_key(db, "read", "reader")
    source = departments_csv(tmp_path / "departments.csv", 3)

    with ApiClient(server, token) as client, pytest.raises(ApiError) as e:
        Upload(client, source, "departments", journal_dir=tmp_path).run()

    assert f"this needs the ingest role; the key {caller.key_id} has read (403 Forbidden)" == str(
        e.value
    )


@pytest.mark.slow
def test_invalid_year_is_a_readable_422(client: ApiClient) -> None:
    """The API's validation details name the parameter and what is wrong with it."""
    with pytest.raises(ApiError) as e:
        client.hires_by_quarter(0)

    assert e.value.message.startswith(
        "the request does not match the API: year: Input should be greater than or equal to 1 (422"
    )


def test_url_that_is_not_http_is_refused_before_any_request() -> None:
    with pytest.raises(ApiError) as e:
        ApiClient("localhost:8000", "hrd_key")

    assert "invalid API URL 'localhost:8000': expected http://host:port or https://host" == str(
        e.value
    )


def test_error_status_without_a_json_body_names_the_status(tmp_path: Path) -> None:
    """A proxy's HTML error page: the status and its phrase, not the page."""

    class BadGateway(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(502)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(b"<html><body>upstream down</body></html>")

        def log_message(self, *args: object) -> None:
            pass

    proxy = ThreadingHTTPServer(("127.0.0.1", 0), BadGateway)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        with (
            ApiClient(f"http://127.0.0.1:{proxy.server_port}", "hrd_k") as client,
            pytest.raises(ApiError) as e,
        ):
            client.me()
    finally:
        proxy.shutdown()

    assert ("the server answered 502 Bad Gateway", 502) == (e.value.message, e.value.status)


@pytest.mark.slow
def test_migration_job_is_followed_to_its_summary(client: ApiClient, rows_in: RowsIn) -> None:
    """A migration of the export's folder, started and polled through the API."""
    updates: list[str] = []

    job = client.wait(
        client.start_migration([str(CHALLENGE)]),
        on_update=lambda j: updates.append(j.status),
        poll_seconds=0.05,
    )

    assert job.result is not None and "succeeded" == job.result["status"] == updates[-1]
    assert {"departments": 12, "jobs": 183, "hired_employees": rows_in("hired_employees")} == {
        name: entry["inserted"] for name, entry in job.result["tables"].items()
    }


@pytest.mark.slow
def test_backup_is_listed_with_its_rows_and_verifies(
    client: ApiClient, db: psycopg.Connection, parents: None
) -> None:
    job = client.wait(client.start_backup(), poll_seconds=0.05)
    assert job.result is not None
    backup_id = job.result["backup_id"]

    listed = {b.backup_id: b for b in client.backups()}
    verified = client.wait(client.verify(backup_id), poll_seconds=0.05)

    assert {"departments": 12, "jobs": 183, "hired_employees": 0} == {
        name: t.rows for name, t in listed[backup_id].tables.items()
    }
    assert (195, "succeeded") == (listed[backup_id].rows, verified.status)


@pytest.mark.slow
def test_a_broken_backup_is_listed_with_why_beside_the_good_one(
    client: ApiClient, settings: Settings, db: psycopg.Connection
) -> None:
    good, bad = (client.wait(client.start_backup(), poll_seconds=0.05) for _ in range(2))
    assert good.result is not None and bad.result is not None
    manifest = settings.home / "backups" / bad.result["backup_id"] / "manifest.json"
    manifest.write_text("{not json")

    listed = {b.backup_id: b.problem for b in client.backups()}

    assert listed[good.result["backup_id"]] is None
    assert "manifest.json is unreadable" in (listed[bad.result["backup_id"]] or "")


@pytest.mark.slow
def test_restore_puts_back_the_rows_of_the_chosen_backup(
    client: ApiClient, rows_in: RowsIn, parents: None
) -> None:
    backup = client.wait(client.start_backup(), poll_seconds=0.05)
    assert backup.result is not None
    client.post_rows("jobs", b"184,Gardener\n185,Cook\n", "two-more-jobs")
    rows_before = rows_in("jobs")

    job = client.wait(client.restore("jobs", backup.result["backup_id"]), poll_seconds=0.05)

    assert (185, "succeeded", 183) == (rows_before, job.status, rows_in("jobs"))


@pytest.mark.slow
def test_metrics_are_those_of_the_original_export(
    client: ApiClient, settings: Settings, db: psycopg.Connection
) -> None:
    migrate(settings, [str(CHALLENGE)])

    quarters = client.hires_by_quarter(2021)
    above = client.departments_above_mean(2021, "all")

    assert [
        QuarterRow(r.department_id, r.department, r.job_id, r.job, r.q1, r.q2, r.q3, r.q4)
        for r in expected_quarters()
    ] == list(quarters.rows)
    assert [DepartmentRow(d.id, d.department, d.hired) for d in expected_above_mean()] == list(
        above.rows
    )
    assert expected_mean() == pytest.approx(above.mean)


@pytest.mark.slow
def test_metrics_export_as_csv_with_a_header_row(
    client: ApiClient, settings: Settings, db: psycopg.Connection
) -> None:
    migrate(settings, [str(CHALLENGE)])

    quarters = client.hires_by_quarter_csv(2021).decode().splitlines()
    above = client.departments_above_mean_csv(2021, "hiring").decode().splitlines()

    assert ("department_id,department,job_id,job,Q1,Q2,Q3,Q4", len(expected_quarters()) + 1) == (
        quarters[0],
        len(quarters),
    )
    assert ["id,department_id,department,hired"] + [
        f"{d.id},{d.id},{d.department},{d.hired}" for d in expected_above_mean(mean_over="hiring")
    ] == above


@pytest.mark.slow
def test_metrics_export_saves_cells_that_start_a_formula_neutralised(
    client: ApiClient, db: psycopg.Connection, tmp_path: Path
) -> None:
    client.post_rows("departments", b'1,"=HYPERLINK(""http://evil"",""x"")"\n2,Plain\n', "d")
    client.post_rows("jobs", b"1,@SUM(A1)\n", "j")
    client.post_rows("hired_employees", b"1,Ada,2021-01-05T00:00:00Z,1,1\n", "h")
    target = tmp_path / "hires.csv"

    rows = save_csv(client.hires_by_quarter_csv(2021), target)

    assert (
        1,
        [
            "department_id,department,job_id,job,Q1,Q2,Q3,Q4",
            '1,"\'=HYPERLINK(""http://evil"",""x"")",1,\'@SUM(A1),1,0,0,0',
        ],
    ) == (
        rows,
        target.read_text().splitlines(),
    )


def test_export_neutralises_cells_even_from_a_server_that_did_not(tmp_path: Path) -> None:
    """The client's file is safe whatever answered: an older server wrote the cells as is."""
    target = tmp_path / "above.csv"

    save_csv(b'id,department,hired\r\n1,=1+1,3\r\n2,"\tx",2\r\n3,-x,1\r\n', target)

    assert ["id,department,hired", "1,'=1+1,3", "2,'\tx,2", "3,'-x,1"] == (
        target.read_text().splitlines()
    )


def test_remembered_connection_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "config" / "hrdata" / "gui.json"
    os.umask(0o000)
    try:
        config.remember(path, config.Remembered("http://127.0.0.1:8000", "hrd_secret"))
    finally:
        os.umask(0o022)

    assert (0o600, config.Remembered("http://127.0.0.1:8000", "hrd_secret")) == (
        stat.S_IMODE(path.stat().st_mode),
        config.load(path),
    )


def test_forgetting_deletes_the_remembered_connection(tmp_path: Path) -> None:
    path = tmp_path / "gui.json"
    config.remember(path, config.Remembered("http://127.0.0.1:8000", "hrd_secret"))

    config.forget(path)

    assert (False, None) == (path.exists(), config.load(path))


def run_tasks_until_idle(tasks: Tasks, scheduled: list[Callable[[], None]]) -> None:
    """Play the UI thread's part: run what the tasks scheduled until they are all delivered."""
    deadline = time.monotonic() + 10
    while tasks.busy:
        assert time.monotonic() < deadline, "the task never ended"
        while scheduled:
            scheduled.pop(0)()
        time.sleep(0.01)


def test_worker_reports_reach_the_ui_thread_in_order_then_the_result() -> None:
    scheduled: list[Callable[[], None]] = []
    tasks = Tasks(lambda _, callback: scheduled.append(callback))
    seen: list[tuple[str, object, bool]] = []

    def work(task: Task[str, int], report: Callable[[int], None]) -> str:
        for step in (1, 2, 3):
            report(step)
        return "done"

    def note(kind: str) -> Callable[[object], None]:
        return lambda value: seen.append((kind, value, threading.current_thread() is main))

    main = threading.current_thread()
    tasks.start("steps", work, on_done=note("done"), on_error=note("error"), on_progress=note("p"))
    run_tasks_until_idle(tasks, scheduled)

    assert [("p", 1, True), ("p", 2, True), ("p", 3, True), ("done", "done", True)] == seen


def test_unexpected_worker_error_reaches_the_ui_as_one_line_not_a_traceback() -> None:
    scheduled: list[Callable[[], None]] = []
    tasks = Tasks(lambda _, callback: scheduled.append(callback))
    errors: list[str] = []

    def work(task: Task[None, None], report: Callable[[None], None]) -> None:
        raise KeyError("key_id")

    tasks.start("broken", work, on_done=lambda _: None, on_error=errors.append)
    run_tasks_until_idle(tasks, scheduled)

    assert ["unexpected error (KeyError): 'key_id'"] == errors
