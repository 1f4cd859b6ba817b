"""The Upload tab: a CSV file sent to a table in batches, its rejects listed by line."""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from pathlib import Path
from tkinter import ttk
from typing import TYPE_CHECKING

from hrdata.gui.client import ClientError
from hrdata.gui.tasks import Task
from hrdata.gui.uploader import Reject, Upload, UploadProgress, UploadResult
from hrdata.gui.widgets import PAD, TABLE_NAMES, Message, counted, number, scrolled, tree

if TYPE_CHECKING:
    from hrdata.gui.app import App

DETAIL_HINT = "Select a row, or point at it, to read it whole here."


class UploadTab:
    """A CSV file sent to a table in batches of up to 1000 rows; rejects listed by file line."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.task: Task[UploadResult, UploadProgress] | None = None
        self.frame = ttk.Frame(app.notebook, name="upload", padding=2 * PAD)
        self.frame.columnconfigure(0, weight=1)
        self.frame.rowconfigure(5, weight=1)

        form = ttk.Frame(self.frame, name="form")
        form.grid(row=0, column=0, columnspan=2, sticky="we")
        form.columnconfigure(3, weight=1)
        self.table = tk.StringVar(self.frame, "hired_employees")
        self.file = tk.StringVar(self.frame, "")
        ttk.Label(form, text="Table").grid(row=0, column=0, sticky="w")
        ttk.Combobox(
            form,
            name="table",
            textvariable=self.table,
            values=TABLE_NAMES,
            state="readonly",
            width=18,
        ).grid(row=0, column=1, sticky="w", padx=(4, 2 * PAD))
        ttk.Label(form, text="CSV file").grid(row=0, column=2, sticky="w")
        ttk.Entry(form, name="file", textvariable=self.file).grid(
            row=0, column=3, sticky="we", padx=4
        )
        ttk.Button(form, name="browse", text="Browse…", command=self.browse).grid(
            row=0, column=4, sticky="e"
        )
        self.table.trace_add("write", lambda *_: self.refresh_pending())
        self.file.trace_add("write", lambda *_: self.refresh_pending())

        buttons = ttk.Frame(self.frame, name="buttons")
        buttons.grid(row=1, column=0, columnspan=2, sticky="we", pady=(PAD, 0))
        self.start_button = ttk.Button(
            buttons,
            name="start",
            text="Upload",
            style="Accent.TButton",
            command=lambda: self.start(resume=False),
        )
        self.start_button.pack(side="left")
        self.resume_button = ttk.Button(
            buttons, name="resume", text="Resume", command=lambda: self.start(resume=True)
        )
        self.resume_button.pack(side="left", padx=PAD)
        self.cancel_button = ttk.Button(buttons, name="cancel", text="Cancel", command=self.cancel)
        self.cancel_button.pack(side="left")
        self.pending = ttk.Label(buttons, name="pending", text="", style="Hint.TLabel")
        self.pending.pack(side="left", padx=2 * PAD)
        self.resume_button.state(["disabled"])
        self.cancel_button.state(["disabled"])

        self.progress = ttk.Progressbar(self.frame, name="progress", maximum=1)
        self.progress.grid(row=2, column=0, columnspan=2, sticky="we", pady=(PAD, 2))
        self.progress_text = ttk.Label(self.frame, name="progress_text", text="")
        self.progress_text.grid(row=3, column=0, columnspan=2, sticky="w")

        self.rejects_title = ttk.Label(
            self.frame, name="rejects_title", text="Rejected rows", style="Title.TLabel"
        )
        self.rejects_title.grid(row=4, column=0, sticky="w", pady=(PAD, 2))
        self.rejects = tree(
            self.frame,
            "rejects",
            {
                "line": ("Line", 70, "e"),
                "values": ("Values", 420, "w"),
                "reasons": ("Reasons", 520, "w"),
            },
        )
        scrolled(self.rejects, row=5)
        # A reason list outgrows its column: the row under the pointer, else the selected one,
        # is shown whole here, wrapped to the tab's width.
        self.reject_rows: dict[str, Reject] = {}
        self.detail = ttk.Label(
            self.frame, name="detail", text=DETAIL_HINT, style="Hint.TLabel", justify="left"
        )
        self.detail.grid(row=6, column=0, columnspan=2, sticky="we", pady=(PAD, 0))
        self.frame.bind(
            "<Configure>", lambda e: self.detail.configure(wraplength=max(e.width - 4 * PAD, 200))
        )
        self.rejects.bind("<<TreeviewSelect>>", lambda _: self._show_detail(self._selected()))
        self.rejects.bind("<Motion>", lambda e: self._show_detail(self.rejects.identify_row(e.y)))
        self.rejects.bind("<Leave>", lambda _: self._show_detail(self._selected()))
        self.message = Message(self.frame)
        self.message.label.grid(row=7, column=0, columnspan=2, sticky="w", pady=PAD)

    def _selected(self) -> str:
        chosen = self.rejects.selection()
        return chosen[0] if chosen else ""

    def _show_detail(self, row: str) -> None:
        """Show the reject in table row `row` whole (its line, values, each reason on a line of
        its own); with no such row, the hint."""
        reject = self.reject_rows.get(row)
        if reject is None:
            self.detail.configure(text=DETAIL_HINT if self.reject_rows else "")
            return
        reasons = "\n".join(r.message for r in reject.reasons)
        self.detail.configure(text=f"Line {reject.line}: {', '.join(reject.values)}\n{reasons}")

    def _clear_rejects(self) -> None:
        self.rejects.delete(*self.rejects.get_children())
        self.reject_rows.clear()
        self._show_detail("")

    def browse(self) -> None:
        chosen = self.app.ask_open_file()
        if chosen:
            self.file.set(chosen)

    def _upload(self) -> Upload | None:
        client = self.app.require_client(self.message)
        path = self.file.get().strip()
        if client is None:
            return None
        if not path:
            self.message.error("Choose a CSV file first.")
            return None
        try:
            return Upload(client, Path(path), self.table.get(), journal_dir=self.app.journal_dir)
        except ClientError as exc:
            self.message.error(exc.message)
            return None

    def refresh_pending(self) -> None:
        """Say whether an earlier upload of this file to this table can be resumed."""
        if self.task is not None:
            return
        pending = None
        if self.app.client is not None and self.file.get().strip():
            try:
                pending = Upload(
                    self.app.client,
                    Path(self.file.get().strip()),
                    self.table.get(),
                    journal_dir=self.app.journal_dir,
                ).pending()
            except ClientError:
                pending = None
        if pending is None:
            self.pending.configure(text="")
            self.resume_button.state(["disabled"])
        else:
            self.pending.configure(
                text=f"An earlier upload stopped after batch {pending.batches_done} of "
                f"{pending.batches_total} ({number(pending.rows_done)} of "
                f"{counted(pending.rows_total, 'row')}): Resume sends the rest."
            )
            self.resume_button.state(["!disabled"])

    def start(self, *, resume: bool) -> None:
        upload = self._upload()
        if upload is None:
            return
        self._clear_rejects()
        self.rejects_title.configure(text="Rejected rows")
        self.progress.configure(value=0, maximum=1)
        self.progress_text.configure(text="Reading the file…")
        self.message.info(f"Uploading {upload.path.name} to {upload.table}…")
        self.app.show_activity("uploading…")
        for button in (self.start_button, self.resume_button):
            button.state(["disabled"])
        self.cancel_button.state(["!disabled"])

        def work(
            task: Task[UploadResult, UploadProgress], report: Callable[[UploadProgress], None]
        ) -> UploadResult:
            return upload.run(resume=resume, on_progress=report, cancel=task.cancel)

        self.task = self.app.tasks.start(
            "upload",
            work,
            on_done=self._finished,
            on_error=self._failed,
            on_progress=self._progressed,
        )

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel.set()
            self.cancel_button.state(["disabled"])
            self.message.info("Cancelling after the batch in flight…")

    def _progressed(self, progress: UploadProgress) -> None:
        self.progress.configure(maximum=max(progress.rows_total, 1), value=progress.rows_done)
        self.progress_text.configure(
            text=f"Batch {progress.batches_done} of {progress.batches_total} · "
            f"{number(progress.rows_done)} of {counted(progress.rows_total, 'row')} · "
            f"{number(progress.inserted)} inserted · {number(progress.skipped)} skipped · "
            f"{number(progress.rejected)} rejected"
        )
        for reject in progress.rejects:
            self._add_reject(reject)

    def _add_reject(self, reject: Reject) -> None:
        row = self.rejects.insert(
            "",
            "end",
            values=(
                reject.line,
                ", ".join(reject.values),
                "; ".join(r.message for r in reject.reasons),
            ),
        )
        self.reject_rows[row] = reject
        if len(self.reject_rows) == 1:
            self._show_detail("")
        self.rejects_title.configure(text=f"Rejected rows ({len(self.rejects.get_children())})")

    def _ended(self) -> None:
        self.task = None
        self.app.show_activity("")
        self.start_button.state(["!disabled"])
        self.cancel_button.state(["disabled"])
        self.refresh_pending()

    def _finished(self, result: UploadResult) -> None:
        self._ended()
        if result.status == "cancelled":
            sent = result.batches_sent + result.batches_resumed
            self.message.info(
                f"Cancelled after {sent} of {counted(result.batches_total, 'batch')}. "
                "Resume sends the rest."
                if self._can_resume()
                else "Cancelled before any batch was sent."
            )
            return
        self._clear_rejects()
        for reject in result.rejects:
            self._add_reject(reject)
        self.rejects_title.configure(text=f"Rejected rows ({len(result.rejects)})")
        self.progress.configure(maximum=max(result.rows_total, 1), value=result.rows_total)
        resumed = (
            f" ({result.batches_resumed} sent before, not again)" if result.batches_resumed else ""
        )
        self.message.ok(
            f"Done: {counted(result.batches_total, 'batch')}{resumed}, "
            f"{counted(result.rows_total, 'row')}: "
            f"{number(result.inserted)} inserted, {number(result.skipped)} skipped as already "
            f"present, {number(len(result.rejects))} rejected."
        )

    def _failed(self, text: str) -> None:
        self._ended()
        hint = (
            "\nResume sends the batches not yet acknowledged; no row is inserted twice."
            if self._can_resume()
            else ""
        )
        self.message.error(f"The upload stopped: {text}{hint}")

    def _can_resume(self) -> bool:
        return "disabled" not in self.resume_button.state()
