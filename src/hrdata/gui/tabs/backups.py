"""The Backups tab: take, list and verify backup sets, restore a table from one."""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from tkinter import ttk
from typing import TYPE_CHECKING

from hrdata.gui.tasks import Task
from hrdata.gui.widgets import (
    PAD,
    TABLE_NAMES,
    Message,
    counted,
    moment,
    number,
    scrolled,
    size,
    tree,
)
from hrdata.wire import Job, ListedBackupOut

if TYPE_CHECKING:
    from hrdata.gui.app import App


class BackupsTab:
    """Backup sets: take one, list them, verify one, restore a table from one. The list loads
    the first time the tab is shown with a connection (again after connecting elsewhere)."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.sets: dict[str, ListedBackupOut] = {}
        self.listed_with: object | None = None  # the client the list was last loaded with
        self.frame = ttk.Frame(app.notebook, name="backups", padding=2 * PAD)
        self.frame.columnconfigure(0, weight=1)
        self.frame.rowconfigure(1, weight=1)

        buttons = ttk.Frame(self.frame, name="buttons")
        buttons.grid(row=0, column=0, columnspan=2, sticky="we", pady=(0, PAD))
        self.take_button = ttk.Button(
            buttons, name="take", text="Take a backup", style="Accent.TButton", command=self.take
        )
        self.take_button.pack(side="left")
        ttk.Button(buttons, name="refresh", text="Refresh", command=self.refresh).pack(
            side="left", padx=PAD
        )
        self.verify_button = ttk.Button(
            buttons, name="verify", text="Verify selected", command=self.verify
        )
        self.verify_button.pack(side="left")

        self.list = tree(
            self.frame,
            "list",
            {
                "backup": ("Backup", 230, "w"),
                "time": ("Taken at", 190, "w"),
                "rows": ("Rows", 100, "e"),
                "size": ("Size", 100, "e"),
                "tables": ("Tables (rows)", 420, "w"),
            },
        )
        scrolled(self.list, row=1)

        restore = ttk.Labelframe(self.frame, name="restore", text="Restore", padding=PAD)
        restore.grid(row=2, column=0, columnspan=2, sticky="we", pady=(PAD, 0))
        ttk.Label(restore, text="Table").pack(side="left")
        self.table = tk.StringVar(self.frame, "hired_employees")
        ttk.Combobox(
            restore,
            name="table",
            textvariable=self.table,
            values=TABLE_NAMES,
            state="readonly",
            width=18,
        ).pack(side="left", padx=PAD)
        self.restore_button = ttk.Button(
            restore, name="restore", text="Restore from the selected backup…", command=self.restore
        )
        self.restore_button.pack(side="left")
        ttk.Label(
            restore,
            text="Replaces every row of the table, atomically; you are asked first.",
            style="Hint.TLabel",
        ).pack(side="left", padx=PAD)
        self.message = Message(self.frame)
        self.message.label.grid(row=3, column=0, columnspan=2, sticky="w", pady=PAD)
        # The notebook maps a tab's frame when it is selected: that is "shown".
        self.frame.bind("<Map>", lambda _: self.shown())

    def shown(self) -> None:
        """The tab came into view: list the sets unless this connection listed them already."""
        client = self.app.client
        if client is not None and self.listed_with is not client:
            self.listed_with = client
            self.refresh()

    def selected(self) -> ListedBackupOut | None:
        chosen = self.list.selection()
        return self.sets.get(chosen[0]) if chosen else None

    def _busy(self, text: str) -> None:
        for button in (self.take_button, self.verify_button, self.restore_button):
            button.state(["disabled"])
        self.message.info(text)
        self.app.show_activity(text.lower())

    def _idle(self) -> None:
        for button in (self.take_button, self.verify_button, self.restore_button):
            button.state(["!disabled"])
        self.app.show_activity("")

    def _failed(self, text: str) -> None:
        self._idle()
        self.message.error(text)

    def refresh(self, then: Callable[[], None] | None = None) -> None:
        client = self.app.require_client(self.message)
        if client is None:
            return

        def done(sets: list[ListedBackupOut]) -> None:
            self._show(sets)
            if then is not None:
                then()
            elif not sets:
                self.message.info("No backup yet.")

        self.app.tasks.start(
            "backups", lambda task, report: client.backups(), on_done=done, on_error=self._failed
        )

    def _show(self, sets: list[ListedBackupOut]) -> None:
        chosen = self.list.selection()
        self.list.delete(*self.list.get_children())
        self.sets = {s.backup_id: s for s in sets}
        for backup in sets:  # oldest first, as the API and `hrdata backups list` give them
            tables = (
                f"broken: {backup.problem}"
                if backup.problem
                else ", ".join(f"{name} {number(t.rows)}" for name, t in backup.tables.items())
            )
            self.list.insert(
                "",
                "end",
                iid=backup.backup_id,
                values=(
                    backup.backup_id,
                    moment(backup.created_at or ""),
                    number(backup.rows),
                    size(backup.bytes),
                    tables,
                ),
            )
        keep = [c for c in chosen if c in self.sets]
        if keep:
            self.list.selection_set(keep)
        elif sets:
            self.list.selection_set(sets[-1].backup_id)
        if sets:
            self.list.see(self.list.selection()[-1])  # the newest, at the bottom, in view

    def take(self) -> None:
        client = self.app.require_client(self.message)
        if client is None:
            return
        self._busy("Taking a backup…")

        def work(task: Task[Job, Job], report: Callable[[Job], None]) -> Job:
            return client.wait(client.start_backup())

        def done(job: Job) -> None:
            self._idle()
            if job.status != "succeeded" or job.result is None:
                self.message.error(f"The backup failed: {job.error or job.status}")
                return
            backup_id = str(job.result.get("backup_id"))

            def listed() -> None:
                if backup_id in self.sets:
                    self.list.selection_set(backup_id)
                    self.list.see(backup_id)
                    self.message.ok(
                        f"Backup {backup_id} taken: {counted(self.sets[backup_id].rows, 'row')}."
                    )

            self.refresh(then=listed)

        self.app.tasks.start("backup", work, on_done=done, on_error=self._failed)

    def verify(self) -> None:
        client = self.app.require_client(self.message)
        backup = self.selected()
        if client is None:
            return
        if backup is None:
            self.message.error("Select a backup in the list first.")
            return
        self._busy(f"Verifying {backup.backup_id}…")

        def work(task: Task[Job, Job], report: Callable[[Job], None]) -> Job:
            return client.wait(client.verify(backup.backup_id))

        def done(job: Job) -> None:
            self._idle()
            if job.status == "succeeded":
                self.message.ok(
                    f"Backup {backup.backup_id} is sound: every file matches its manifest "
                    "(size, checksum, schema, rows)."
                )
            else:
                self.message.error(f"Backup {backup.backup_id} failed verification: {job.error}")

        self.app.tasks.start("verify", work, on_done=done, on_error=self._failed)

    def restore(self) -> None:
        client = self.app.require_client(self.message)
        backup = self.selected()
        table = self.table.get()
        if client is None:
            return
        if backup is None:
            self.message.error("Select a backup in the list first.")
            return
        if table not in backup.tables:
            self.message.error(f"Backup {backup.backup_id} holds no {table}.")
            return
        rows = backup.tables[table].rows
        question = (
            f"Replace every row of {table} with the {counted(rows, 'row')} of backup "
            f"{backup.backup_id} (taken {moment(backup.created_at or '')})?\n\n"
            f"The rows {table} holds now will be gone; the restore is all-or-nothing."
        )
        if not self.app.ask_yes_no(f"Restore {table}", question, yes=f"Restore {table}"):
            self.message.info("Restore cancelled: nothing was changed.")
            return
        self._busy(f"Restoring {table} from {backup.backup_id}…")

        def work(task: Task[Job, Job], report: Callable[[Job], None]) -> Job:
            return client.wait(client.restore(table, backup.backup_id))

        def done(job: Job) -> None:
            self._idle()
            if job.status == "succeeded" and job.result is not None:
                restored = job.result.get("rows", {}).get(table, rows)
                self.message.ok(
                    f"{table} restored from {backup.backup_id}: it now holds "
                    f"{counted(int(restored), 'row')}."
                )
            else:
                self.message.error(f"The restore failed, nothing was changed: {job.error}")

        self.app.tasks.start("restore", work, on_done=done, on_error=self._failed)
