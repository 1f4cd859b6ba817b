"""The metrics chart, drawn on a Tk canvas: each department's hires in the year as a bar split
into quarters, the mean per department as a dashed line, departments above it in bold. A
bar's total is written past the mean line when it would otherwise sit on it."""

from __future__ import annotations

import tkinter as tk
from dataclasses import dataclass
from tkinter import font as tkfont

from hrdata.labels import distinct_labels
from hrdata.wire import DepartmentsAboveMean, HiresByQuarter

QUARTER_COLOURS = ("#1f5f8b", "#3b8fc4", "#7bb8de", "#b9daf0")
MEAN_COLOUR = "#c0392b"
TEXT_COLOUR = "#222222"
MUTED_COLOUR = "#666666"
GRID_COLOUR = "#e3e3e3"
CLEARANCE = 3  # pixels kept between the mean line and a total's text


@dataclass(frozen=True)
class DepartmentBar:
    """One department's bar, keyed by its id; `department` is its label (see labels.py)."""

    department_id: int
    department: str
    quarters: tuple[int, int, int, int]
    above_mean: bool

    @property
    def total(self) -> int:
        return sum(self.quarters)


def department_labels(quarters: HiresByQuarter, above: DepartmentsAboveMean) -> dict[int, str]:
    """The label of each department the two answers name, by id: a shared name gets its id."""
    named = [(r.department_id, r.department) for r in quarters.rows]
    return distinct_labels(named + [(d.id, d.department) for d in above.rows])


def job_labels(quarters: HiresByQuarter) -> dict[int, str]:
    """The label of each job the answer names, by id, as `department_labels`."""
    return distinct_labels((r.job_id, r.job) for r in quarters.rows)


def department_bars(quarters: HiresByQuarter, above: DepartmentsAboveMean) -> list[DepartmentBar]:
    """Per department id, hires by quarter summed over jobs; most hires first, then by label."""
    sums: dict[int, list[int]] = {}
    for row in quarters.rows:
        entry = sums.setdefault(row.department_id, [0, 0, 0, 0])
        for i, value in enumerate((row.q1, row.q2, row.q3, row.q4)):
            entry[i] += value
    labels = department_labels(quarters, above)
    chosen = {d.id for d in above.rows}
    bars = [
        DepartmentBar(key, labels[key], (q[0], q[1], q[2], q[3]), key in chosen)
        for key, q in sums.items()
    ]
    return sorted(bars, key=lambda b: (-b.total, b.department, b.department_id))


def placeholder(canvas: tk.Canvas, text: str) -> None:
    """An empty chart area saying what to do."""
    canvas.delete("all")
    canvas.create_text(
        max(canvas.winfo_width(), 320) / 2,
        max(canvas.winfo_height(), 240) / 2,
        text=text,
        fill=MUTED_COLOUR,
        font=tkfont.nametofont("TkDefaultFont"),
        tags="empty",
    )


def draw(canvas: tk.Canvas, quarters: HiresByQuarter, above: DepartmentsAboveMean) -> None:
    """Draw (or redraw, at the canvas's current size) the chart of the year's hires."""
    canvas.delete("all")
    width = max(canvas.winfo_width(), 320)
    height = max(canvas.winfo_height(), 240)
    normal = tkfont.nametofont("TkDefaultFont")
    bold = normal.copy()
    bold.configure(weight="bold")
    small = normal.copy()
    small.configure(size=max(int(normal.cget("size")) - 1, 7))
    line_height = normal.metrics("linespace")

    title = f"Hires per department in {quarters.year}, by quarter"
    canvas.create_text(12, 10, text=title, anchor="nw", font=bold, fill=TEXT_COLOUR, tags="title")
    bars = department_bars(quarters, above)
    if not bars:
        canvas.create_text(
            width / 2,
            height / 2,
            text=f"No hires in {quarters.year}",
            font=normal,
            fill=MUTED_COLOUR,
            tags="empty",
        )
        return

    legend_y = 14 + line_height
    x = 12
    for i, colour in enumerate(QUARTER_COLOURS):
        canvas.create_rectangle(x, legend_y + 2, x + 12, legend_y + 14, fill=colour, width=0)
        canvas.create_text(x + 16, legend_y + 8, text=f"Q{i + 1}", anchor="w", font=small)
        x += 52
    if above.mean is not None:
        canvas.create_line(x + 4, legend_y + 8, x + 24, legend_y + 8, fill=MEAN_COLOUR, dash=(4, 3))
        label = f"mean {above.mean:.1f} per department ({_mean_over(above.mean_over)})"
        canvas.create_text(x + 30, legend_y + 8, text=label, anchor="w", font=small)

    label_width = max(bold.measure(b.department) for b in bars) + 16
    left = min(label_width, width // 2)
    right = width - 48
    top = legend_y + line_height + 16
    bottom = height - line_height - 14
    peak = max(max(b.total for b in bars), above.mean or 0)
    scale = (right - left) / _nice_ceiling(peak)
    step = (bottom - top) / len(bars)
    bar_height = max(min(step * 0.7, 28), 3)
    mean_x = left + above.mean * scale if above.mean is not None else None

    for tick in _ticks(_nice_ceiling(peak)):
        tx = left + tick * scale
        canvas.create_line(tx, top - 4, tx, bottom, fill=GRID_COLOUR)
        canvas.create_text(
            tx, bottom + 4, text=f"{tick:,}", anchor="n", font=small, fill=MUTED_COLOUR
        )

    for i, bar in enumerate(bars):
        y = top + i * step + (step - bar_height) / 2
        name_font = bold if bar.above_mean else normal
        canvas.create_text(
            left - 8,
            y + bar_height / 2,
            text=bar.department,
            anchor="e",
            font=name_font,
            fill=TEXT_COLOUR,
            tags=("label",),
        )
        x0 = float(left)
        for value, colour in zip(bar.quarters, QUARTER_COLOURS, strict=True):
            if value:
                x1 = x0 + value * scale
                canvas.create_rectangle(
                    x0, y, x1, y + bar_height, fill=colour, outline="white", tags=("bar",)
                )
                x0 = x1
        total = f"{bar.total:,}"
        canvas.create_text(
            _total_x(x0 + 4, small.measure(total), mean_x),
            y + bar_height / 2,
            text=total,
            anchor="w",
            font=small,
            tags="total",
        )

    if mean_x is not None:
        canvas.create_line(
            mean_x, top - 6, mean_x, bottom, fill=MEAN_COLOUR, width=2, dash=(6, 4), tags="mean"
        )


def _total_x(x: float, width: int, mean_x: float | None) -> float:
    """Where a bar's total starts: at `x`, after the bar, unless the mean line would run through
    the text there; then just past the line."""
    if mean_x is not None and x - CLEARANCE <= mean_x <= x + width + CLEARANCE:
        return mean_x + CLEARANCE + 1
    return x


def _mean_over(mean_over: str) -> str:
    return "all departments" if mean_over == "all" else "departments that hired"


def _nice_ceiling(value: float) -> int:
    """The smallest of 1, 2, 2.5, 5 times a power of ten at or above `value` (at least 1)."""
    if value <= 1:
        return 1
    power = 1
    while power * 10 < value:
        power *= 10
    for factor in (1, 2, 2.5, 5, 10):
        if factor * power >= value:
            return int(factor * power)
    return 10 * power


def _ticks(ceiling: int) -> list[int]:
    if ceiling <= 5:
        return list(range(ceiling + 1))
    step = ceiling / 5 if ceiling % 5 == 0 else ceiling / 4 if ceiling % 4 == 0 else ceiling
    count = round(ceiling / step)
    return [round(i * step) for i in range(count + 1)]
