"""The confirmation asked before what cannot be undone (a restore, quitting mid-upload).

Tk's messagebox draws it on X11 as a narrow box in bold text, with Yes as the default: one
Enter too many replaces a table. This dialog wraps the question at a readable width in the
normal font, and No is its default: focused, and the answer to Enter, Escape and closing it.
"""

from __future__ import annotations

import contextlib
import tkinter as tk
from tkinter import ttk

from hrdata.gui.widgets import PAD

WRAP = 440  # pixels: a line of about 70 characters


class Confirm:
    """A modal question over `parent` with two buttons, `action` and No; `wait` shows it and
    returns True only when `action` was chosen."""

    def __init__(self, parent: tk.Misc, title: str, message: str, action: str = "Yes") -> None:
        self.answer = False
        owner = parent.winfo_toplevel()
        self.window = window = tk.Toplevel(owner, name="confirm", padx=PAD, pady=PAD)
        window.title(title)
        window.transient(owner)
        window.resizable(False, False)
        body = ttk.Frame(window, name="body", padding=PAD)
        body.pack(fill="both", expand=True)
        ttk.Label(body, name="title", text=title, style="Title.TLabel").pack(anchor="w")
        ttk.Label(body, name="message", text=message, wraplength=WRAP, justify="left").pack(
            anchor="w", fill="x", pady=(PAD, 2 * PAD)
        )
        buttons = ttk.Frame(body, name="buttons")
        buttons.pack(fill="x")
        self.no = ttk.Button(buttons, name="no", text="No", default="active", command=self.close)
        self.no.pack(side="right")
        ttk.Button(buttons, name="yes", text=action, command=self.accept).pack(
            side="right", padx=(0, PAD)
        )
        # Enter presses the focused button (No unless the person moved to the action on purpose).
        window.bind("<Return>", self._enter)
        window.bind("<KP_Enter>", self._enter)
        window.bind("<Escape>", lambda _: self.close())
        window.protocol("WM_DELETE_WINDOW", self.close)
        self.no.focus_set()
        self._centre(owner)

    def _enter(self, event: tk.Event[tk.Misc]) -> None:
        widget = event.widget
        if isinstance(widget, ttk.Button):
            widget.invoke()
        else:
            self.close()

    def _centre(self, owner: tk.Misc) -> None:
        self.window.update_idletasks()
        x = owner.winfo_rootx() + (owner.winfo_width() - self.window.winfo_reqwidth()) // 2
        y = owner.winfo_rooty() + (owner.winfo_height() - self.window.winfo_reqheight()) // 3
        self.window.geometry(f"+{max(x, 0)}+{max(y, 0)}")

    def accept(self) -> None:
        self.answer = True
        self.window.destroy()

    def close(self) -> None:
        self.window.destroy()

    def wait(self) -> bool:
        """Show the dialog, keep input to it until it is answered, and return the answer."""
        if self.window.master.winfo_viewable():  # else it may never be mapped: do not wait
            self.window.wait_visibility()
        # Another application may hold the grab: the dialog is then merely on top.
        with contextlib.suppress(tk.TclError):
            self.window.grab_set()
        self.no.focus_set()
        self.window.wait_window()
        return self.answer
