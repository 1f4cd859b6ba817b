"""The desktop client's window, for real: on an Xvfb screen, against a running `hrdata serve`,
driven through its widgets (Tk's own invoke and events, and real clicks and keys with xdotool),
with a screenshot of the window after each step under the test's temporary folder."""

from __future__ import annotations

import json
import os
import select
import shutil
import stat
import subprocess
import threading
import time
import tkinter as tk
import tkinter.font as tkfont
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner
from PIL import ImageGrab

from hrdata.auth import Caller, create_key
from hrdata.cli import cli
from hrdata.gui import chart, config
from hrdata.gui.app import App, open_window
from hrdata.gui.client import ApiClient
from hrdata.gui.uploader import Upload, UploadProgress
from hrdata.ingest.migrate import migrate
from hrdata.settings import Settings
from hrdata.wire import DepartmentRow, DepartmentsAboveMean, HiresByQuarter, QuarterRow
from tests.support.fixture_types import Invoke, RowsIn
from tests.support.paths import CHALLENGE
from tests.support.servers import start_server, stop

# Every test drives the window on Xvfb against a real server: seconds each.
pytestmark = pytest.mark.slow

MISSING = "{} is missing: run scripts/system-packages (as root or with sudo; `make test` does)"


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    """A virtual X screen of its own (Xvfb picks a free display number and writes it)."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        pytest.fail(MISSING.format("Xvfb"))
    read_end, write_end = os.pipe()
    process = subprocess.Popen(
        [xvfb, "-displayfd", str(write_end), "-screen", "0", "1280x900x24", "-nolisten", "tcp"],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    number = b""
    deadline = time.monotonic() + 20
    while not number.endswith(b"\n"):
        ready, _, _ = select.select([read_end], [], [], max(deadline - time.monotonic(), 0))
        chunk = os.read(read_end, 16) if ready else b""
        assert chunk, "Xvfb did not start"
        number += chunk
    os.close(read_end)
    yield f":{number.decode().strip()}"
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def server(settings: Settings, db: psycopg.Connection, tmp_path: Path) -> Iterator[str]:
    process, url, _ = start_server(settings, tmp_path)
    yield url
    stop(process)


@pytest.fixture
def admin(db: psycopg.Connection) -> tuple[Caller, str]:
    return create_key(db, "admin", "Ada Admin")


class Window:
    """The app in a Tk root of its own, with helpers to wait for it and photograph it."""

    def __init__(self, app: App, display: str, folder: Path) -> None:
        self.app, self.root, self.display, self.folder = app, app.root, display, folder
        self.errors: list[str] = []
        self.shots: list[Path] = []

    def widget(self, path: str) -> Any:
        return self.root.nametowidget(path)

    def pump_until(self, condition: Callable[[], bool], what: str, seconds: float = 60) -> None:
        """Run Tk's event loop until `condition` holds (or fail after `seconds`)."""
        deadline = time.monotonic() + seconds
        while True:
            self.root.update()
            if condition():
                return
            assert time.monotonic() < deadline, f"gave up waiting for {what}"
            time.sleep(0.02)

    def settle(self) -> None:
        """Wait until no operation is running and every report reached the window."""
        self.pump_until(lambda: not self.app.tasks.busy, "the running operations to end")
        self.root.update_idletasks()
        self.root.update()

    def connect(self, url: str, token: str) -> None:
        self.app.connection.url.set(url)
        self.app.connection.key.set(token)
        self.widget(".app.tabs.connection.form.connect").invoke()
        self.settle()

    def show(self, tab: str) -> None:
        self.app.notebook.select(self.widget(f".app.tabs.{tab}"))
        self.root.update()

    def show_metrics(self, year: str) -> Any:
        """The Metrics tab shown for `year`, Show pressed and answered; its chart's canvas."""
        self.show("metrics")
        self.widget(".app.tabs.metrics.controls.year").set(year)
        self.widget(".app.tabs.metrics.controls.show").invoke()
        self.settle()
        return self.widget(".app.tabs.metrics.panes.chart_frame.chart")

    def screenshot(self, name: str) -> Path:
        """The window as it is on the screen, saved as <test folder>/screenshots/<name>.png."""
        self.root.update_idletasks()
        self.root.update()
        x, y = self.root.winfo_rootx(), self.root.winfo_rooty()
        width, height = self.root.winfo_width(), self.root.winfo_height()
        image = ImageGrab.grab(bbox=(x, y, x + width, y + height), xdisplay=self.display)
        path = self.folder / "screenshots" / f"{len(self.shots) + 1:02d}-{name}.png"
        path.parent.mkdir(exist_ok=True)
        image.save(path)
        self.shots.append(path)
        return path

    def rows(self, tree: str) -> list[tuple[str, ...]]:
        widget = self.widget(tree)
        return [tuple(map(str, widget.item(i, "values"))) for i in widget.get_children()]


@pytest.fixture
def window(
    display: str, server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Window]:
    monkeypatch.setenv("DISPLAY", display)
    root = tk.Tk(className="hrdata")
    app = App(
        root,
        url=server,
        config_path=tmp_path / "config" / "hrdata" / "gui.json",
        journal_dir=tmp_path / "journal",
    )
    shown = Window(app, display, tmp_path)

    def record(*error: object) -> None:
        shown.errors.append(repr(error[1]))

    root.report_callback_exception = record  # type: ignore[method-assign]
    root.update()
    yield shown
    root.destroy()
    assert [] == shown.errors


@pytest.fixture
def loaded(settings: Settings, db: psycopg.Connection) -> None:
    """The original export migrated (departments, jobs and hired employees)."""
    migrate(settings, [str(CHALLENGE)])


def test_connect_shows_the_key_holder_and_role_in_the_status_line(
    window: Window, server: str, admin: tuple[Caller, str]
) -> None:
    caller, token = admin

    window.connect(server, token)
    window.screenshot("connected")

    assert f"Connected to {server} as Ada Admin (admin), key {caller.key_id}" == window.widget(
        ".statusbar.status"
    ).cget("text")


def test_connect_with_real_clicks_and_keystrokes(
    window: Window, server: str, admin: tuple[Caller, str]
) -> None:
    """xdotool types the key into the field and clicks Connect, as a person would."""
    xdotool = shutil.which("xdotool")
    if xdotool is None:
        pytest.fail(MISSING.format("xdotool"))
    _, token = admin
    window.root.geometry("+0+0")
    window.pump_until(lambda: window.root.winfo_viewable() == 1, "the window to be mapped")
    key = window.widget(".app.tabs.connection.form.key")
    connect = window.widget(".app.tabs.connection.form.connect")

    def click(widget: tk.Widget) -> None:
        x = widget.winfo_rootx() + widget.winfo_width() // 2
        y = widget.winfo_rooty() + widget.winfo_height() // 2
        env = {**os.environ, "DISPLAY": window.display}
        subprocess.run([xdotool, "mousemove", str(x), str(y), "click", "1"], env=env, check=True)

    click(key)
    window.pump_until(lambda: window.root.focus_get() == key, "the key field to take the focus")
    subprocess.run(
        [xdotool, "type", "--delay", "2", token],
        env={**os.environ, "DISPLAY": window.display},
        check=True,
    )
    window.pump_until(lambda: window.app.connection.key.get() == token, "the key to be typed")
    click(connect)
    window.pump_until(lambda: window.app.me is not None, "the connection")
    window.screenshot("connected-by-xdotool")

    assert "Connected as Ada Admin, role admin: may use every tab." == window.widget(
        ".app.tabs.connection.message"
    ).cget("text")


def test_remember_keeps_the_key_in_a_0600_file_and_unticking_deletes_it(
    window: Window, server: str, admin: tuple[Caller, str]
) -> None:
    _, token = admin
    path = window.app.config_path
    remember = window.widget(".app.tabs.connection.form.remember")

    window.connect(server, token)
    absent_before = not path.exists()
    remember.invoke()  # ticked while connected: written now
    mode = stat.S_IMODE(path.stat().st_mode)
    window.screenshot("remembered")
    remember.invoke()  # unticked: deleted

    assert (True, 0o600, False) == (absent_before, mode, path.exists())


def test_next_start_connects_with_the_remembered_url_and_key(
    display: str,
    server: str,
    admin: tuple[Caller, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DISPLAY", display)
    path = tmp_path / "gui.json"
    config.remember(path, config.Remembered(server, admin[1]))

    app = open_window(None, None, path)
    try:
        started = Window(app, display, tmp_path)
        started.settle()
        started.screenshot("started-remembered")
        shown = (app.connection.remember.get(), started.widget(".statusbar.status").cget("text"))
    finally:
        app.root.destroy()

    assert (True, f"Connected to {server} as Ada Admin (admin), key {admin[0].key_id}") == shown


def test_upload_with_bad_rows_lists_each_reject_with_its_file_line_and_reasons(
    window: Window,
    server: str,
    admin: tuple[Caller, str],
    settings: Settings,
    rows_in: RowsIn,
) -> None:
    migrate(settings, [str(CHALLENGE / "departments.csv"), str(CHALLENGE / "jobs.csv")])
    source = CHALLENGE / "hired_employees.csv"
    window.connect(server, admin[1])
    window.show("upload")
    window.app.ask_open_file = lambda: str(source)  # type: ignore[method-assign]
    combo = window.widget(".app.tabs.upload.form.table")
    combo.set("hired_employees")
    combo.event_generate("<<ComboboxSelected>>")
    window.widget(".app.tabs.upload.form.browse").invoke()

    window.widget(".app.tabs.upload.buttons.start").invoke()
    window.settle()
    window.screenshot("uploaded-with-rejects")

    progress = window.widget(".app.tabs.upload.progress")
    rejects = window.rows(".app.tabs.upload.rejects")
    assert (1999.0, 1999.0) == (float(progress.cget("value")), float(progress.cget("maximum")))
    assert 69 == len(rejects) == 1999 - rows_in("hired_employees")
    assert ("67", "67, Thia Morican, 2021-03-10T19:27:10Z, , 104", "department_id is empty") == (
        rejects[0]
    )
    assert ("162", "162, , 2021-04-22T14:31:39Z, 4, 91", "name is empty") in rejects
    assert (
        window.widget(".app.tabs.upload.progress_text")
        .cget("text")
        .startswith("Batch 2 of 2 · 1,999 of 1,999 rows · 1,930 inserted")
    )


def test_upload_stopped_after_one_batch_is_resumed_from_the_window_without_resending_it(
    window: Window,
    server: str,
    admin: tuple[Caller, str],
    settings: Settings,
    rows_in: RowsIn,
    tmp_path: Path,
) -> None:
    migrate(settings, [str(CHALLENGE / "departments.csv"), str(CHALLENGE / "jobs.csv")])
    source = CHALLENGE / "hired_employees.csv"
    cancel = threading.Event()

    def after_batch(progress: UploadProgress) -> None:
        if progress.batches_done == 1:
            cancel.set()

    with ApiClient(server, admin[1]) as client:
        Upload(client, source, "hired_employees", journal_dir=tmp_path / "journal").run(
            on_progress=after_batch, cancel=cancel
        )
    window.connect(server, admin[1])
    window.show("upload")
    window.app.upload.file.set(str(source))
    pending = window.widget(".app.tabs.upload.buttons.pending").cget("text")
    window.screenshot("resume-offered")

    window.widget(".app.tabs.upload.buttons.resume").invoke()
    window.settle()
    window.screenshot("resumed")

    assert pending.startswith("An earlier upload stopped after batch 1 of 2 (1,000 of 1,999 rows)")
    assert window.app.upload.message.text.startswith(
        "Done: 2 batches (1 sent before, not again), 1,999 rows: 1,930 inserted"
    )
    assert (69, 1930) == (
        len(window.rows(".app.tabs.upload.rejects")),
        rows_in("hired_employees"),
    )


def test_taken_backup_is_listed_with_its_time_rows_and_size(
    window: Window, server: str, admin: tuple[Caller, str], loaded: None
) -> None:
    window.connect(server, admin[1])
    window.show("backups")

    window.widget(".app.tabs.backups.buttons.take").invoke()
    window.settle()
    window.screenshot("backup-taken")

    [(backup_id, taken, rows, size, tables)] = window.rows(".app.tabs.backups.list")
    assert ("2,125", "departments 12, jobs 183, hired_employees 1,930") == (rows, tables)
    assert taken.endswith(" UTC") and size.endswith(" kB")
    assert f"Backup {backup_id} taken: 2,125 rows." == window.app.backups.message.text


def test_restore_asks_naming_table_backup_and_rows_then_replaces_the_table(
    window: Window, server: str, admin: tuple[Caller, str], loaded: None, rows_in: RowsIn
) -> None:
    with ApiClient(server, admin[1]) as client:
        backup = client.wait(client.start_backup(), poll_seconds=0.05)
        assert backup.result is not None
        backup_id = backup.result["backup_id"]
        client.post_rows("jobs", b"184,Gardener\n185,Cook\n", "two-more")
    asked: list[tuple[str, str]] = []

    def answer_yes(title: str, text: str, yes: str = "Yes") -> bool:
        asked.append((title, text))
        return True

    window.app.ask_yes_no = answer_yes  # type: ignore[method-assign]
    window.connect(server, admin[1])
    window.show("backups")
    window.widget(".app.tabs.backups.buttons.refresh").invoke()
    window.settle()
    window.widget(".app.tabs.backups.list").selection_set(backup_id)
    window.widget(".app.tabs.backups.restore.table").set("jobs")

    window.widget(".app.tabs.backups.restore.restore").invoke()
    window.settle()
    window.screenshot("restored")

    [(title, question)] = asked
    assert "Restore jobs" == title
    assert question.startswith(f"Replace every row of jobs with the 183 rows of backup {backup_id}")
    assert 183 == rows_in("jobs")
    assert (
        f"jobs restored from {backup_id}: it now holds 183 rows." == window.app.backups.message.text
    )


def press_in_dialog(window: Window, key: str, seen: dict[str, Any]) -> None:
    """Once the confirmation is up: note what it looks like, photograph it, press `key` in it.
    A dialog still open 10 s later is closed (as No), so a key that missed fails the test
    instead of leaving it waiting forever."""

    def act() -> None:
        dialog = window.root.nametowidget(".confirm")
        window.root.after(10_000, lambda: dialog.winfo_exists() and dialog.destroy())
        # A window manager focuses a new window, and Tk passes that on to the widget the
        # dialog focused; Xvfb has no window manager, so the test does both.
        dialog.focus_lastfor().focus_force()
        dialog.update()
        message = dialog.nametowidget("body.message")
        seen.update(
            focus=str(dialog.focus_lastfor()),
            default=str(dialog.nametowidget("body.buttons.no").cget("default")),
            transient=str(dialog.transient()),
            wraplength=int(str(message.cget("wraplength"))),
            text=str(message.cget("text")),
            lines=message.winfo_height() // tkfont.nametofont("TkDefaultFont").metrics("linespace"),
            width=dialog.winfo_width(),
            bold=tkfont.Font(font=message.cget("font") or "TkDefaultFont").actual("weight"),
        )
        x, y = dialog.winfo_rootx(), dialog.winfo_rooty()
        image = ImageGrab.grab(
            bbox=(x, y, x + dialog.winfo_width(), y + dialog.winfo_height()),
            xdisplay=window.display,
        )
        image.save(window.folder / "confirmation.png")
        seen["pressed_in"] = str(dialog.focus_get())
        dialog.focus_get().event_generate(key)

    window.root.after(300, act)


def restore_jobs_pressing(window: Window, server: str, token: str, key: str) -> dict[str, Any]:
    """Ask to restore jobs from the newest backup, then press `key` in the confirmation;
    what the dialog looked like (see press_in_dialog)."""
    window.connect(server, token)
    window.show("backups")
    window.settle()
    window.widget(".app.tabs.backups.restore.table").set("jobs")
    seen: dict[str, Any] = {}
    press_in_dialog(window, key, seen)
    window.widget(".app.tabs.backups.restore.restore").invoke()
    window.settle()
    return seen


def test_restore_confirmation_answers_no_to_enter_and_changes_nothing(
    window: Window, server: str, admin: tuple[Caller, str], loaded: None, rows_in: RowsIn
) -> None:
    with ApiClient(server, admin[1]) as client:
        client.wait(client.start_backup(), poll_seconds=0.05)
        client.post_rows("jobs", b"184,Gardener\n", "one-more")

    seen = restore_jobs_pressing(window, server, admin[1], "<Return>")

    assert ".confirm.body.buttons.no" == seen["pressed_in"]  # Enter went to the dialog's No
    assert (184, "Restore cancelled: nothing was changed.") == (
        rows_in("jobs"),
        window.app.backups.message.text,
    )


def test_restore_confirmation_is_a_readable_dialog_with_no_as_its_default(
    window: Window, server: str, admin: tuple[Caller, str], loaded: None
) -> None:
    with ApiClient(server, admin[1]) as client:
        client.wait(client.start_backup(), poll_seconds=0.05)

    seen = restore_jobs_pressing(window, server, admin[1], "<Escape>")

    assert (".confirm.body.buttons.no", "active", ".") == (
        seen["focus"],
        seen["default"],
        seen["transient"],
    )
    assert seen["text"].startswith("Replace every row of jobs with the 183 rows of backup")
    assert 0 < seen["wraplength"] <= 480 <= seen["width"] + 60  # wrapped at a reading width
    assert 400 <= seen["width"] and 3 <= seen["lines"]  # wide enough, the text whole
    assert "normal" == seen["bold"]
    assert "Restore cancelled: nothing was changed." == window.app.backups.message.text


def test_backups_tab_lists_the_sets_when_first_shown_in_the_order_of_the_cli(
    window: Window, server: str, admin: tuple[Caller, str], loaded: None, run: Invoke
) -> None:
    with ApiClient(server, admin[1]) as client:
        for _ in range(3):
            client.wait(client.start_backup(tables=["departments"]), poll_seconds=0.05)
    window.connect(server, admin[1])

    window.show("backups")
    window.settle()
    window.screenshot("backups-first-shown")

    listed = run("backups", "list", "--json")
    cli_order = [entry["backup_id"] for entry in json.loads(listed.stdout)]
    assert 3 == len(cli_order)
    assert cli_order == [row[0] for row in window.rows(".app.tabs.backups.list")]
    assert (cli_order[-1],) == window.widget(".app.tabs.backups.list").selection()


@pytest.fixture
def upload(
    window: Window, server: str, admin: tuple[Caller, str], settings: Settings, tmp_path: Path
) -> Callable[[str], None]:
    """Upload CSV text to hired_employees from the Upload tab (the export's departments and
    jobs loaded first), and wait for it to end."""
    migrate(settings, [str(CHALLENGE / "departments.csv"), str(CHALLENGE / "jobs.csv")])
    window.connect(server, admin[1])
    window.show("upload")

    def send(text: str) -> None:
        source = tmp_path / "upload.csv"
        source.write_text(text)
        window.app.upload.file.set(str(source))
        window.widget(".app.tabs.upload.buttons.start").invoke()
        window.settle()

    return send


def test_upload_shows_a_rejected_rows_values_and_reasons_whole_when_selected_or_pointed_at(
    window: Window, upload: Callable[[str], None]
) -> None:
    upload("1,Ada,2021-01-05T00:00:00Z,1,1\n2,,yesterday at noon,twelve,9999\n")
    rejects = window.widget(".app.tabs.upload.rejects")
    detail = window.widget(".app.tabs.upload.detail")
    [row] = rejects.get_children()
    reasons = str(rejects.set(row, "reasons")).split("; ")
    hint = str(detail.cget("text"))

    rejects.selection_set(row)
    window.root.update()
    selected = str(detail.cget("text"))
    rejects.selection_set(())
    window.root.update()
    x, y, width, height = rejects.bbox(row, "reasons")
    rejects.event_generate("<Motion>", x=x + width // 2, y=y + height // 2)
    window.root.update()
    window.screenshot("upload-reject-detail")

    assert hint.startswith("Select a row")
    assert 3 <= len(reasons)
    expected = "Line 2: 2, , yesterday at noon, twelve, 9999\n" + "\n".join(reasons)
    assert (expected, expected) == (selected, str(detail.cget("text")))


def test_upload_of_one_row_says_1_batch_and_1_row(
    window: Window, upload: Callable[[str], None]
) -> None:
    upload("1,Ada,2021-01-05T00:00:00Z,1,1\n")

    assert (
        "Done: 1 batch, 1 row: 1 inserted, 0 skipped as already present, 0 rejected."
        == window.app.upload.message.text
    )
    assert (
        window.widget(".app.tabs.upload.progress_text")
        .cget("text")
        .startswith("Batch 1 of 1 · 1 of 1 row · 1 inserted")
    )


def test_chart_writes_a_bar_total_past_the_mean_line_never_under_it(window: Window) -> None:
    # Hires 10, 4, 3, 3, 1: the mean 4.2 sits just after the bar of 4, where its total goes.
    hired = {1: 10, 2: 4, 3: 3, 4: 3, 5: 1}
    quarters = HiresByQuarter(
        2021, tuple(QuarterRow(d, f"D{d}", 1, "Clerk", n, 0, 0, 0) for d, n in hired.items())
    )
    above = DepartmentsAboveMean(2021, "all", 4.2, (DepartmentRow(1, "D1", 10),))
    canvas = window.widget(".app.tabs.metrics.panes.chart_frame.chart")
    window.show("metrics")

    chart.draw(canvas, quarters, above)
    window.screenshot("chart-mean-line")

    mean_x = canvas.coords(canvas.find_withtag("mean")[0])[0]
    spans = [canvas.bbox(item) for item in canvas.find_withtag("total")]
    assert 5 == len(spans)
    assert [] == [(x0, x1) for x0, _, x1, _ in spans if x0 - 1 <= mean_x <= x1 + 1]
    assert any(x0 > mean_x for x0, _, _, _ in spans)  # one was moved past the line


def test_metrics_for_2021_show_the_api_answers_as_tables_and_a_chart(
    window: Window, server: str, admin: tuple[Caller, str], loaded: None
) -> None:
    window.connect(server, admin[1])

    chart = window.show_metrics("2021")
    window.screenshot("metrics-2021")

    with ApiClient(server, admin[1]) as client:
        quarters = client.hires_by_quarter(2021)
        above = client.departments_above_mean(2021)
    labels = {chart.itemcget(i, "text") for i in chart.find_withtag("label")}
    assert [
        (r.department, r.job, str(r.q1), str(r.q2), str(r.q3), str(r.q4)) for r in quarters.rows
    ] == window.rows(".app.tabs.metrics.panes.tables.quarters")
    assert [(str(d.id), d.department, str(d.hired)) for d in above.rows] == window.rows(
        ".app.tabs.metrics.panes.tables.departments"
    )
    assert {r.department for r in quarters.rows} == labels
    assert len(chart.find_withtag("bar")) >= len(labels) and chart.find_withtag("mean")


def test_metrics_keep_departments_and_jobs_sharing_a_name_apart_labelled_with_their_ids(
    window: Window, server: str, admin: tuple[Caller, str], namesakes: None
) -> None:
    window.connect(server, admin[1])

    chart = window.show_metrics("2021")
    window.screenshot("metrics-namesakes")

    labels = [chart.itemcget(i, "text") for i in chart.find_withtag("label")]
    assert [
        ("Legal (#11)", "Clerk (#1)", "3", "0", "0", "0"),
        ("Legal (#13)", "Clerk (#2)", "0", "2", "0", "0"),
    ] == window.rows(".app.tabs.metrics.panes.tables.quarters")
    assert [("11", "Legal (#11)", "3"), ("13", "Legal (#13)", "2")] == window.rows(
        ".app.tabs.metrics.panes.tables.departments"
    )
    assert ["Legal (#11)", "Legal (#13)"] == labels


def test_metrics_export_saves_the_api_csv_where_the_person_chose(
    window: Window, server: str, admin: tuple[Caller, str], loaded: None, tmp_path: Path
) -> None:
    target = tmp_path / "exported" / "hires.csv"
    target.parent.mkdir()
    window.app.ask_save_file = lambda initial: str(target)  # type: ignore[method-assign]
    window.connect(server, admin[1])
    window.show("metrics")

    window.widget(".app.tabs.metrics.controls.export_quarters").invoke()
    window.settle()
    window.screenshot("metrics-exported")

    with ApiClient(server, admin[1]) as client:
        assert client.hires_by_quarter_csv(2021) == target.read_bytes()


def test_an_api_error_is_shown_as_its_message(
    window: Window, server: str, admin: tuple[Caller, str]
) -> None:
    """Year 0: the API's 422, shown under the controls as one readable line."""
    window.connect(server, admin[1])
    window.show("metrics")
    window.widget(".app.tabs.metrics.controls.year").set("0")

    window.widget(".app.tabs.metrics.controls.show").invoke()
    window.settle()
    window.screenshot("metrics-error")

    assert window.app.metrics.message.text.startswith(
        "the request does not match the API: year: Input should be greater than or equal to 1"
    )


def test_migrating_a_folder_shows_the_summary_per_table(
    window: Window, server: str, admin: tuple[Caller, str]
) -> None:
    window.connect(server, admin[1])
    window.show("migrate")
    window.app.ask_directory = lambda: str(CHALLENGE)  # type: ignore[method-assign]
    window.widget(".app.tabs.migrate.box.buttons.add_folder").invoke()

    window.widget(".app.tabs.migrate.run.start").invoke()
    window.settle()
    window.screenshot("migrated")

    assert [
        ("departments", "loaded", "12", "12", "0", "0", ""),
        ("jobs", "loaded", "183", "183", "0", "0", ""),
        ("hired_employees", "loaded", "1,999", "1,930", "0", "69", "missing 69"),
    ] == window.rows(".app.tabs.migrate.summary")


def test_gui_command_without_a_display_says_so_in_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))

    result = CliRunner().invoke(cli, ["gui"])

    assert (
        1,
        "Error: cannot open a window: no display name and no $DISPLAY environment variable",
    ) == (
        result.exit_code,
        result.output.split(" (")[0],
    )
