"""The Migrate tab: files, folders or S3 URIs migrated by the server as a job."""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from tkinter import ttk
from typing import TYPE_CHECKING

from hrdata.gui.tasks import Task
from hrdata.gui.widgets import PAD, TABLE_NAMES, Message, number, scrolled, size, tree
from hrdata.wire import Job

if TYPE_CHECKING:
    from hrdata.gui.app import App


class MigrateTab:
    """Files, folders or S3 URIs, as the server sees them, migrated as a job of the API."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.frame = ttk.Frame(app.notebook, name="migrate", padding=2 * PAD)
        self.frame.columnconfigure(0, weight=1)
        self.frame.rowconfigure(5, weight=1)
        ttk.Label(
            self.frame,
            text="Sources: CSV files, folders or s3:// URIs. Paths are read by the server, so "
            "local files need a server on this computer.",
            style="Hint.TLabel",
        ).grid(row=0, column=0, columnspan=2, sticky="w")

        box = ttk.Frame(self.frame, name="box")
        box.grid(row=1, column=0, columnspan=2, sticky="we", pady=(4, PAD))
        box.columnconfigure(0, weight=1)
        self.sources = tk.Listbox(
            box,
            name="sources",
            height=5,
            activestyle="none",
            selectmode="extended",
            relief="flat",
            borderwidth=4,
            highlightthickness=1,
            highlightbackground="#9e9a91",
            highlightcolor="#1f5f8b",
            background="white",
        )
        self.sources.grid(row=0, column=0, rowspan=4, sticky="nsew")
        buttons = ttk.Frame(box, name="buttons")
        buttons.grid(row=0, column=1, rowspan=4, sticky="n", padx=(PAD, 0))
        for name, text, command in (
            ("add_files", "Add files…", self.add_files),
            ("add_folder", "Add folder…", self.add_folder),
            ("remove", "Remove", self.remove),
        ):
            ttk.Button(buttons, name=name, text=text, command=command, width=14).pack(
                fill="x", pady=(0, 4)
            )

        options = ttk.Frame(self.frame, name="options")
        options.grid(row=2, column=0, columnspan=2, sticky="we")
        options.columnconfigure(1, weight=1)
        self.s3_uri = tk.StringVar(self.frame, "")
        ttk.Label(options, text="S3 URI").grid(row=0, column=0, sticky="w")
        s3 = ttk.Entry(options, name="s3_uri", textvariable=self.s3_uri)
        s3.grid(row=0, column=1, sticky="we", padx=PAD)
        s3.bind("<Return>", lambda _: self.add_uri())
        ttk.Button(options, name="add_uri", text="Add URI", command=self.add_uri, width=14).grid(
            row=0, column=2, sticky="e"
        )
        self.table = tk.StringVar(self.frame, "(from file names)")
        ttk.Label(options, text="Table").grid(row=1, column=0, sticky="w", pady=(PAD, 0))
        row = ttk.Frame(options)
        row.grid(row=1, column=1, columnspan=2, sticky="w", padx=PAD, pady=(PAD, 0))
        ttk.Combobox(
            row,
            name="table",
            textvariable=self.table,
            values=("(from file names)", *TABLE_NAMES),
            state="readonly",
            width=20,
        ).pack(side="left")
        ttk.Label(row, text="Max rejects per file").pack(side="left", padx=(2 * PAD, 4))
        self.max_rejects = tk.StringVar(self.frame, "")
        ttk.Entry(row, name="max_rejects", textvariable=self.max_rejects, width=8).pack(side="left")
        ttk.Label(row, text="(N or N%; empty: no limit)", style="Hint.TLabel").pack(
            side="left", padx=4
        )

        run = ttk.Frame(self.frame, name="run")
        run.grid(row=3, column=0, columnspan=2, sticky="we", pady=PAD)
        run.columnconfigure(1, weight=1)
        self.start_button = ttk.Button(
            run, name="start", text="Start migration", style="Accent.TButton", command=self.start
        )
        self.start_button.grid(row=0, column=0, sticky="w")
        self.progress = ttk.Progressbar(run, name="progress", maximum=1.0)
        self.progress.grid(row=0, column=1, sticky="we", padx=PAD)
        self.progress_text = ttk.Label(run, name="progress_text", text="", width=36)
        self.progress_text.grid(row=0, column=2, sticky="e")

        ttk.Label(self.frame, text="Summary per table", style="Title.TLabel").grid(
            row=4, column=0, sticky="w", pady=(PAD, 2)
        )
        self.summary = tree(
            self.frame,
            "summary",
            {
                "table": ("Table", 150, "w"),
                "status": ("Status", 120, "w"),
                "read": ("Read", 80, "e"),
                "inserted": ("Inserted", 80, "e"),
                "skipped": ("Skipped", 80, "e"),
                "rejected": ("Rejected", 80, "e"),
                "reasons": ("Rejected by reason", 320, "w"),
            },
        )
        self.summary.configure(height=4)
        scrolled(self.summary, row=5)
        self.message = Message(self.frame)
        self.message.label.grid(row=6, column=0, columnspan=2, sticky="w", pady=PAD)

    def _add(self, *sources: str) -> None:
        present = set(self.sources.get(0, "end"))
        for source in sources:
            if source and source not in present:
                self.sources.insert("end", source)
                present.add(source)

    def add_files(self) -> None:
        self._add(*self.app.ask_open_files())

    def add_folder(self) -> None:
        self._add(self.app.ask_directory())

    def add_uri(self) -> None:
        uri = self.s3_uri.get().strip()
        if not uri.startswith("s3://") or len(uri) <= len("s3://"):
            self.message.error("An S3 URI looks like s3://bucket/prefix/ or s3://bucket/file.csv.")
            return
        self._add(uri)
        self.s3_uri.set("")

    def remove(self) -> None:
        for index in reversed(self.sources.curselection()):  # type: ignore[no-untyped-call]
            self.sources.delete(index)

    def start(self) -> None:
        client = self.app.require_client(self.message)
        if client is None:
            return
        sources = list(self.sources.get(0, "end"))
        if not sources:
            self.message.error("Add at least one file, folder or S3 URI first.")
            return
        table = self.table.get() if self.table.get() in TABLE_NAMES else None
        max_rejects = self.max_rejects.get().strip() or None
        self.start_button.state(["disabled"])
        self.summary.delete(*self.summary.get_children())
        self.progress.configure(value=0)
        self.progress_text.configure(text="starting…")
        self.message.info("Migration running…")
        self.app.show_activity("migrating…")

        def work(task: Task[Job, Job], report: Callable[[Job], None]) -> Job:
            job = client.start_migration(sources, table, max_rejects)
            report(job)
            return client.wait(job, on_update=report)

        self.app.tasks.start(
            "migrate",
            work,
            on_done=self._finished,
            on_error=self._failed,
            on_progress=self._progressed,
        )

    def _progressed(self, job: Job) -> None:
        files = job.progress.get("files", {})
        read = sum(int(f.get("bytes_read") or 0) for f in files.values())
        total = sum(int(f.get("bytes_total") or 0) for f in files.values())
        if total:
            self.progress.configure(value=min(read / total, 1.0))
            self.progress_text.configure(text=f"{size(read)} of {size(total)} read")

    def _finished(self, job: Job) -> None:
        self.start_button.state(["!disabled"])
        self.app.show_activity("")
        self._progressed(job)
        if job.result is None:
            self.message.error(f"The migration failed: {job.error or 'no summary'}")
            return
        self.progress.configure(value=1.0)
        tables = job.result.get("tables", {})
        for name in sorted(tables, key=lambda t: TABLE_NAMES.index(t) if t in TABLE_NAMES else 99):
            entry = tables[name]
            statuses = sorted({f.get("status", "") for f in entry.get("files", [])})
            reasons = ", ".join(
                f"{code} {count}"
                for code, count in sorted(entry.get("rejected_by_reason", {}).items())
            )
            self.summary.insert(
                "",
                "end",
                iid=name,
                values=(
                    name,
                    ", ".join(statuses),
                    number(entry["read"]),
                    number(entry["inserted"]),
                    number(entry["skipped"]),
                    number(entry["rejected"]),
                    reasons,
                ),
            )
        status = job.result.get("status", job.status)
        run_id = job.result.get("run_id", job.job_id)
        if status == "succeeded":
            self.message.ok(f"Migration {run_id} finished: every file loaded.")
        else:
            self.message.error(f"Migration {run_id} ended: {status.replace('_', ' ')}.")

    def _failed(self, text: str) -> None:
        self.start_button.state(["!disabled"])
        self.app.show_activity("")
        self.progress_text.configure(text="")
        self.message.error(text)
