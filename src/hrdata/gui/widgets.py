"""What every tab is built of: a message line, scrolled tables, and readable numbers."""

from __future__ import annotations

import tkinter as tk
from datetime import datetime
from tkinter import ttk
from typing import Any, Literal

from hrdata.dictionary import TABLES

TABLE_NAMES = tuple(t.name for t in TABLES)
ROLE_SCOPE = {
    "admin": "may use every tab",
    "ingest": "may upload rows (Upload tab)",
    "read": "may list backups and view the metrics",
}
PAD = 8
ERROR_COLOUR = "#b00020"
OK_COLOUR = "#1e6b34"


def number(value: int) -> str:
    """1234567 as 1,234,567."""
    return f"{value:,}"


def counted(value: int, singular: str, plural: str | None = None) -> str:
    """`1 batch`, `2 batches`, `1,999 rows`: the number and its noun, singular only for 1."""
    if value == 1:
        return f"1 {singular}"
    if plural is None:
        plural = singular + ("es" if singular.endswith(("s", "x", "ch", "sh")) else "s")
    return f"{number(value)} {plural}"


def size(count: int) -> str:
    """A byte count as people read it: 38.6 kB."""
    value = float(count)
    for unit in ("bytes", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{count} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{count} bytes"


def moment(text: str) -> str:
    """An ISO 8601 instant as 2026-11-25 12:16:36 UTC."""
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    return parsed.strftime("%Y-%m-%d %H:%M:%S UTC")


class Message:
    """A line under a tab's controls for what happened: red for errors, green for success."""

    def __init__(self, parent: tk.Misc, name: str = "message") -> None:
        self.label = ttk.Label(parent, name=name, text="", wraplength=1000, justify="left")

    def error(self, text: str) -> None:
        self.label.configure(text=text, foreground=ERROR_COLOUR)

    def ok(self, text: str) -> None:
        self.label.configure(text=text, foreground=OK_COLOUR)

    def info(self, text: str) -> None:
        self.label.configure(text=text, foreground="")

    @property
    def text(self) -> str:
        return str(self.label.cget("text"))


Anchor = Literal["w", "e", "center"]


def tree(parent: tk.Misc, name: str, columns: dict[str, tuple[str, int, Anchor]]) -> ttk.Treeview:
    """A Treeview of `columns` (heading, width, anchor); left-aligned columns stretch."""
    widget = ttk.Treeview(parent, name=name, columns=tuple(columns), show="headings", height=8)
    for column, (heading, width, anchor) in columns.items():
        widget.heading(column, text=heading, anchor=anchor)
        widget.column(column, width=width, minwidth=40, anchor=anchor, stretch=anchor == "w")
    return widget


def scrolled(table: ttk.Treeview, row: int, column: int = 0, **grid: Any) -> None:
    """Grid `table` at (row, column) of its parent, with a vertical scrollbar beside it."""
    scroll = ttk.Scrollbar(table.master, orient="vertical", command=table.yview)
    table.configure(yscrollcommand=scroll.set)
    table.grid(row=row, column=column, sticky="nsew", **grid)
    scroll.grid(row=row, column=column + 1, sticky="ns", pady=grid.get("pady", 0))
