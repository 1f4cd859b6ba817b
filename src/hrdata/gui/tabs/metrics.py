"""The Metrics tab: the two hiring metrics of a year as tables and a chart; CSV export."""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from pathlib import Path
from tkinter import ttk
from typing import TYPE_CHECKING

from hrdata.dictionary import HIRE_YEARS
from hrdata.gui import chart
from hrdata.gui.export import save_csv
from hrdata.gui.tasks import Task
from hrdata.gui.widgets import PAD, Message, counted, scrolled, tree
from hrdata.wire import DepartmentsAboveMean, HiresByQuarter

if TYPE_CHECKING:
    from hrdata.gui.app import App


class MetricsTab:
    """The two metrics for a year, as tables and a chart, and their CSV export."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.data: tuple[HiresByQuarter, DepartmentsAboveMean] | None = None
        self.frame = ttk.Frame(app.notebook, name="metrics", padding=2 * PAD)
        self.frame.columnconfigure(0, weight=1)
        self.frame.rowconfigure(1, weight=1)

        controls = ttk.Frame(self.frame, name="controls")
        controls.grid(row=0, column=0, sticky="we", pady=(0, PAD))
        ttk.Label(controls, text="Year").pack(side="left")
        self.year = tk.StringVar(self.frame, "2021")
        year = ttk.Spinbox(
            controls,
            name="year",
            textvariable=self.year,
            from_=HIRE_YEARS[0],
            to=HIRE_YEARS[1],
            width=6,
        )
        year.pack(side="left", padx=(4, 2 * PAD))
        year.bind("<Return>", lambda _: self.show())
        ttk.Label(controls, text="Mean over").pack(side="left")
        self.mean_over = tk.StringVar(self.frame, "all")
        ttk.Combobox(
            controls,
            name="mean_over",
            textvariable=self.mean_over,
            values=("all", "hiring"),
            state="readonly",
            width=7,
        ).pack(side="left", padx=(4, 2 * PAD))
        self.show_button = ttk.Button(
            controls, name="show", text="Show", style="Accent.TButton", command=self.show
        )
        self.show_button.pack(side="left")
        ttk.Button(
            controls,
            name="export_departments",
            text="Export departments CSV…",
            command=lambda: self.export("departments"),
        ).pack(side="right")
        ttk.Button(
            controls,
            name="export_quarters",
            text="Export quarters CSV…",
            command=lambda: self.export("quarters"),
        ).pack(side="right", padx=PAD)

        panes = ttk.Panedwindow(self.frame, name="panes", orient="horizontal")
        panes.grid(row=1, column=0, sticky="nsew")
        tables = ttk.Frame(panes, name="tables")
        tables.columnconfigure(0, weight=1)
        tables.rowconfigure(1, weight=3)
        tables.rowconfigure(3, weight=2)
        panes.add(tables, weight=3)
        self.quarters_title = ttk.Label(
            tables, name="quarters_title", text="Hires by quarter", style="Title.TLabel"
        )
        self.quarters_title.grid(row=0, column=0, sticky="w", pady=(0, 2))
        self.quarters = tree(
            tables,
            "quarters",
            {
                "department": ("Department", 140, "w"),
                "job": ("Job", 210, "w"),
                "Q1": ("Q1", 44, "e"),
                "Q2": ("Q2", 44, "e"),
                "Q3": ("Q3", 44, "e"),
                "Q4": ("Q4", 44, "e"),
            },
        )
        scrolled(self.quarters, row=1)
        self.departments_title = ttk.Label(
            tables,
            name="departments_title",
            text="Departments above the mean",
            style="Title.TLabel",
        )
        self.departments_title.grid(row=2, column=0, sticky="w", pady=(PAD, 2))
        self.departments = tree(
            tables,
            "departments",
            {
                "id": ("Id", 50, "e"),
                "department": ("Department", 220, "w"),
                "hired": ("Hired", 80, "e"),
            },
        )
        self.departments.configure(height=5)
        scrolled(self.departments, row=3)

        holder = ttk.Frame(panes, name="chart_frame", padding=(PAD, 0, 0, 0))
        panes.add(holder, weight=4)
        self.chart = tk.Canvas(
            holder,
            name="chart",
            background="white",
            highlightthickness=1,
            highlightbackground="#cccccc",
            width=520,
            height=420,
        )
        self.chart.pack(fill="both", expand=True)
        self.chart.bind("<Configure>", lambda _: self._draw())
        self.message = Message(self.frame)
        self.message.label.grid(row=2, column=0, sticky="w", pady=PAD)

    def _year(self) -> int | None:
        try:
            return int(self.year.get().strip())
        except ValueError:
            self.message.error(f"The year must be a whole number, not {self.year.get()!r}.")
            return None

    def show(self) -> None:
        client = self.app.require_client(self.message)
        year = self._year()
        if client is None or year is None:
            return
        mean_over = self.mean_over.get()
        self.show_button.state(["disabled"])
        self.message.info(f"Loading {year}…")

        def work(
            task: Task[tuple[HiresByQuarter, DepartmentsAboveMean], None],
            report: Callable[[None], None],
        ) -> tuple[HiresByQuarter, DepartmentsAboveMean]:
            return client.hires_by_quarter(year), client.departments_above_mean(year, mean_over)

        def done(data: tuple[HiresByQuarter, DepartmentsAboveMean]) -> None:
            self.show_button.state(["!disabled"])
            self.data = data
            self._fill(*data)
            self.message.info("")

        def failed(text: str) -> None:
            self.show_button.state(["!disabled"])
            self.message.error(text)

        self.app.tasks.start("metrics", work, on_done=done, on_error=failed)

    def _fill(self, quarters: HiresByQuarter, above: DepartmentsAboveMean) -> None:
        # Rows are keyed by ids (the item ids); a name two departments share shows its id.
        departments, jobs = chart.department_labels(quarters, above), chart.job_labels(quarters)
        self.quarters.delete(*self.quarters.get_children())
        for row in quarters.rows:
            self.quarters.insert(
                "",
                "end",
                iid=f"{row.department_id}/{row.job_id}",
                values=(
                    departments[row.department_id],
                    jobs[row.job_id],
                    row.q1,
                    row.q2,
                    row.q3,
                    row.q4,
                ),
            )
        total = sum(row.total for row in quarters.rows)
        self.quarters_title.configure(
            text=f"Hires by quarter in {quarters.year} ({counted(total, 'hire')})"
        )
        self.departments.delete(*self.departments.get_children())
        for department in above.rows:
            self.departments.insert(
                "",
                "end",
                iid=str(department.id),
                values=(department.id, departments[department.id], department.hired),
            )
        mean = "no hires" if above.mean is None else f"mean {above.mean:.1f}"
        over = "all departments" if above.mean_over == "all" else "those that hired"
        self.departments_title.configure(text=f"Departments above the mean ({mean}, {over})")
        self._draw()

    def _draw(self) -> None:
        if self.data is None:
            chart.placeholder(self.chart, "Choose a year and press Show.")
        else:
            chart.draw(self.chart, *self.data)

    def export(self, which: str) -> None:
        client = self.app.require_client(self.message)
        year = self._year()
        if client is None or year is None:
            return
        mean_over = self.mean_over.get()
        initial = (
            f"hires-by-quarter-{year}.csv"
            if which == "quarters"
            else f"departments-above-mean-{year}-{mean_over}.csv"
        )
        target = self.app.ask_save_file(initial)
        if not target:
            return

        def work(task: Task[int, None], report: Callable[[None], None]) -> int:
            content = (
                client.hires_by_quarter_csv(year)
                if which == "quarters"
                else client.departments_above_mean_csv(year, mean_over)
            )
            return save_csv(content, Path(target))

        def done(rows: int) -> None:
            what = "Hires by quarter" if which == "quarters" else "Departments above the mean"
            self.message.ok(f"{what} in {year}: {counted(rows, 'row')} saved to {target}.")

        self.app.tasks.start("export", work, on_done=done, on_error=self.message.error)
