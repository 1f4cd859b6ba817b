"""The Connection tab: the API URL and key, and whether to remember them."""

from __future__ import annotations

import tkinter as tk
from tkinter import ttk
from typing import TYPE_CHECKING

from hrdata.gui import config
from hrdata.gui.client import ApiClient, ClientError
from hrdata.gui.widgets import PAD, ROLE_SCOPE, Message
from hrdata.wire import Me

if TYPE_CHECKING:
    from hrdata.gui.app import App


class ConnectionTab:
    """The API URL and key; Connect asks the API who the key is (GET /v1/me)."""

    def __init__(self, app: App, url: str, key: str, remember: bool) -> None:
        self.app = app
        self.frame = ttk.Frame(app.notebook, name="connection", padding=2 * PAD)
        self.url = tk.StringVar(self.frame, url)
        self.key = tk.StringVar(self.frame, key)
        self.remember = tk.BooleanVar(self.frame, remember)
        self.show_key = tk.BooleanVar(self.frame, False)
        self.connected: config.Remembered | None = None

        form = ttk.Frame(self.frame, name="form")
        form.grid(row=0, column=0, sticky="nw")
        ttk.Label(form, text="API URL").grid(row=0, column=0, sticky="w", pady=4)
        ttk.Entry(form, name="url", textvariable=self.url, width=56).grid(
            row=0, column=1, sticky="we", padx=PAD, pady=4
        )
        ttk.Label(form, text="API key").grid(row=1, column=0, sticky="w", pady=4)
        self.key_entry = ttk.Entry(form, name="key", textvariable=self.key, width=56, show="•")
        self.key_entry.grid(row=1, column=1, sticky="we", padx=PAD, pady=4)
        ttk.Checkbutton(
            form, name="show", text="Show", variable=self.show_key, command=self._toggle_shown
        ).grid(row=1, column=2, sticky="w")
        ttk.Checkbutton(
            form,
            name="remember",
            text="Remember the URL and key on this computer",
            variable=self.remember,
            command=self._toggle_remember,
        ).grid(row=2, column=1, sticky="w", padx=PAD, pady=(4, 0))
        ttk.Label(
            form,
            text=f"Kept in {app.config_path}, readable only by you; untick to delete it.",
            style="Hint.TLabel",
        ).grid(row=3, column=1, sticky="w", padx=PAD)
        self.connect_button = ttk.Button(
            form, name="connect", text="Connect", style="Accent.TButton", command=self.connect
        )
        self.connect_button.grid(row=4, column=1, sticky="w", padx=PAD, pady=(PAD * 2, PAD))
        self.message = Message(self.frame)
        self.message.label.grid(row=1, column=0, sticky="w", pady=PAD)
        ttk.Label(
            self.frame,
            text="Keys are made on the server with `hrdata keys create --role admin|ingest|read`.\n"
            "admin: every tab · ingest: Upload · read: the backup list and Metrics.",
            style="Hint.TLabel",
            justify="left",
        ).grid(row=2, column=0, sticky="w", pady=PAD)
        self.key_entry.bind("<Return>", lambda _: self.connect())

    def _toggle_shown(self) -> None:
        self.key_entry.configure(show="" if self.show_key.get() else "•")

    def _toggle_remember(self) -> None:
        try:
            if not self.remember.get():
                config.forget(self.app.config_path)
                self.message.info("The remembered URL and key were deleted.")
            elif self.connected is None:
                self.message.info("The URL and key will be remembered once connected.")
            else:
                config.remember(self.app.config_path, self.connected)
                self.message.ok(f"Remembered in {self.app.config_path}, readable only by you.")
        except ClientError as exc:
            self.message.error(exc.message)

    def connect(self) -> None:
        key = self.key.get().strip()
        try:
            client = ApiClient(self.url.get(), key)
        except ClientError as exc:
            self.message.error(exc.message)
            return
        self.connect_button.state(["disabled"])
        self.message.info(f"Connecting to {client.url}…")

        def done(me: Me) -> None:
            self.connect_button.state(["!disabled"])
            self.connected = config.Remembered(client.url, key)
            self.app.set_connected(client, me)
            scope = ROLE_SCOPE.get(me.role, "")
            text = f"Connected as {me.name or 'an unnamed key'}, role {me.role}: {scope}."
            try:
                if self.remember.get():
                    config.remember(self.app.config_path, self.connected)
                    text += f"\nRemembered in {self.app.config_path}, readable only by you."
                else:
                    config.forget(self.app.config_path)
            except ClientError as exc:
                self.message.error(exc.message)
                return
            self.message.ok(text)

        def failed(text: str) -> None:
            self.connect_button.state(["!disabled"])
            self.connected = None
            self.app.set_disconnected()
            self.message.error(text)

        self.app.tasks.start(
            "connect", lambda task, report: client.me(), on_done=done, on_error=failed
        )
