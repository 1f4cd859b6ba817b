"""The desktop client's window: a notebook of tabs (Connection, Migrate, Upload, Backups,
Metrics) over the API, and a status line saying who is connected.

Every request runs in a worker thread (tasks.py); widgets are touched on the UI thread only.
Dialogs go through the `ask_*` methods of `App`, so tests can answer them without a window
manager. Widgets carry stable Tk names (`.app.tabs.upload.rejects`, ...).
"""

from __future__ import annotations

import tkinter as tk
import tkinter.font as tkfont
from pathlib import Path
from tkinter import filedialog, ttk

from hrdata.gui import config
from hrdata.gui.client import DEFAULT_URL, ApiClient, ClientError
from hrdata.gui.dialogs import Confirm
from hrdata.gui.tabs.backups import BackupsTab
from hrdata.gui.tabs.connection import ConnectionTab
from hrdata.gui.tabs.metrics import MetricsTab
from hrdata.gui.tabs.migrate import MigrateTab
from hrdata.gui.tabs.upload import UploadTab
from hrdata.gui.tasks import Tasks
from hrdata.gui.widgets import PAD, Message
from hrdata.wire import Me


class App:
    """The window. `ask_*` methods are the dialogs; replace them to drive the app in tests."""

    def __init__(
        self,
        root: tk.Tk,
        *,
        url: str = DEFAULT_URL,
        key: str = "",
        remember: bool = False,
        config_path: Path | None = None,
        journal_dir: Path | None = None,
    ) -> None:
        self.root = root
        self.config_path = config_path or config.default_config_path()
        self.journal_dir = journal_dir
        self.client: ApiClient | None = None
        self.me: Me | None = None
        self.tasks = Tasks(root.after)
        root.title("hrdata")
        root.geometry("1180x780")
        root.minsize(900, 600)
        style(root)

        # Packed first, so a small window shrinks the tabs, never the status line.
        bar = ttk.Frame(root, name="statusbar", style="Status.TFrame", padding=(PAD, 4))
        bar.pack(fill="x", side="bottom")
        self.status = ttk.Label(bar, name="status", text="Not connected", style="Status.TLabel")
        self.status.pack(side="left")
        self.activity = ttk.Label(bar, name="activity", text="", style="Status.TLabel")
        self.activity.pack(side="right")

        main = ttk.Frame(root, name="app", padding=(PAD, PAD, PAD, 0))
        main.pack(fill="both", expand=True)
        self.notebook = ttk.Notebook(main, name="tabs")
        self.notebook.pack(fill="both", expand=True)
        self.connection = ConnectionTab(self, url, key, remember)
        self.migrate = MigrateTab(self)
        self.upload = UploadTab(self)
        self.backups = BackupsTab(self)
        self.metrics = MetricsTab(self)
        for tab, title in (
            (self.connection, "Connection"),
            (self.migrate, "Migrate"),
            (self.upload, "Upload"),
            (self.backups, "Backups"),
            (self.metrics, "Metrics"),
        ):
            self.notebook.add(tab.frame, text=f"  {title}  ")
        root.protocol("WM_DELETE_WINDOW", self.close)

    # -- dialogs (tests replace these) -------------------------------------------------------

    def ask_open_files(self) -> list[str]:
        names = filedialog.askopenfilenames(
            parent=self.root,
            title="CSV files to migrate",
            filetypes=[("CSV files", "*.csv *.csv.gz"), ("All files", "*")],
        )
        return list(names)

    def ask_directory(self) -> str:
        return filedialog.askdirectory(parent=self.root, title="A folder of CSV files") or ""

    def ask_open_file(self) -> str:
        return (
            filedialog.askopenfilename(
                parent=self.root,
                title="CSV file to upload",
                filetypes=[("CSV files", "*.csv"), ("All files", "*")],
            )
            or ""
        )

    def ask_save_file(self, initial: str) -> str:
        return (
            filedialog.asksaveasfilename(
                parent=self.root,
                title="Export as CSV",
                initialfile=initial,
                defaultextension=".csv",
                filetypes=[("CSV files", "*.csv")],
            )
            or ""
        )

    def ask_yes_no(self, title: str, message: str, yes: str = "Yes") -> bool:
        """Whether the person chose `yes`; No is the default (see dialogs.Confirm)."""
        return Confirm(self.root, title, message, yes).wait()

    # -- shared by the tabs ------------------------------------------------------------------

    def require_client(self, message: Message) -> ApiClient | None:
        """The connected client, or None after saying that a connection is needed."""
        if self.client is None:
            message.error("Not connected: enter the API URL and key in the Connection tab.")
        return self.client

    def set_connected(self, client: ApiClient, me: Me) -> None:
        if self.client is not None and self.client is not client and not self.tasks.busy:
            self.client.close()  # nothing runs on it any more
        self.client, self.me = client, me
        self.status.configure(
            text=f"Connected to {client.url} as {me.name or 'an unnamed key'} "
            f"({me.role}), key {me.key_id}"
        )
        self.upload.refresh_pending()
        if self.backups.frame.winfo_ismapped():  # connected while looking at Backups
            self.backups.shown()

    def set_disconnected(self) -> None:
        self.client, self.me = None, None
        self.status.configure(text="Not connected")

    def show_activity(self, text: str) -> None:
        self.activity.configure(text=text)

    def close(self) -> None:
        """Close the window; while an upload runs, only after asking (it can be resumed)."""
        if self.upload.task is not None and not self.ask_yes_no(
            "Quit hrdata",
            "An upload is running. Quit anyway?\n\nThe batches acknowledged so far are kept; "
            "Resume sends the rest next time, none of them twice.",
            yes="Quit",
        ):
            return
        self.root.destroy()


def style(root: tk.Tk) -> None:
    style = ttk.Style(root)
    if "clam" in style.theme_names():
        style.theme_use("clam")
    background = "#f3f3f3"
    root.configure(background=background)
    default = tkfont.nametofont("TkDefaultFont")
    default.configure(size=10)
    tkfont.nametofont("TkHeadingFont").configure(size=10, weight="bold")
    tkfont.nametofont("TkTextFont").configure(size=10)
    line = default.metrics("linespace")
    style.configure(".", background=background)
    style.configure("TNotebook", background=background, borderwidth=0)
    style.configure("TNotebook.Tab", padding=(10, 4))
    style.configure("Treeview", rowheight=line + 6, background="white", fieldbackground="white")
    style.configure("Treeview.Heading", font="TkHeadingFont", padding=(4, 3))
    style.configure("TButton", padding=(10, 3))
    style.configure("Accent.TButton", foreground="white", background="#1f5f8b")
    style.map("Accent.TButton", background=[("disabled", "#9bb5c9"), ("active", "#2a73a6")])
    style.configure("Title.TLabel", font="TkHeadingFont")
    style.configure("Hint.TLabel", foreground="#555555")
    style.configure("Status.TFrame", background="#e4e4e4")
    style.configure("Status.TLabel", background="#e4e4e4")
    style.configure("TLabelframe.Label", font="TkHeadingFont")
    style.configure("Horizontal.TProgressbar", thickness=16, background="#3b8fc4")


def open_window(url: str | None, key: str | None, config_path: Path | None = None) -> App:
    """Build the window, with the remembered connection unless told otherwise, and connect
    when a key is known; raises ClientError when there is no display."""
    path = config_path or config.default_config_path()
    remembered = config.load(path)
    if remembered is not None and url is not None and url.rstrip("/") != remembered.url.rstrip("/"):
        remembered = None  # the remembered key belongs to another server
    try:
        root = tk.Tk(className="hrdata")
    except tk.TclError as exc:
        raise ClientError(
            f"cannot open a window: {exc} (run it in a desktop session, or set DISPLAY)"
        ) from None
    app = App(
        root,
        url=url or (remembered.url if remembered else DEFAULT_URL),
        key=key or (remembered.key if remembered else ""),
        remember=remembered is not None,
        config_path=path,
    )
    if app.connection.key.get():
        app.connection.connect()
    return app


def run(url: str | None, key: str | None) -> None:
    """Open the window and run it until it is closed; raises ClientError without a display."""
    open_window(url, key).root.mainloop()
