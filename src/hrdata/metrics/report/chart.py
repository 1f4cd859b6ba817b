"""What each chart draws, laid out: one bar per department on a round linear scale, sized in
SVG user units for the page (wide and narrow) and for the PDF."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from hrdata.metrics.report.snapshot import Report
from hrdata.metrics.report.wording import department_labels, department_names, mean_meaning

QUARTER_COLOURS = ("#0072b2", "#56b4e9", "#009e73", "#e69f00")  # Okabe-Ito: colour-blind safe
ABOVE_COLOUR = "#0072b2"
OTHER_COLOUR = "#b8c4d0"
MEAN_COLOUR = "#d55e00"

BOTTOM, BAR_HEIGHT, RIGHT = 48, 16, 56
# A total label's width per digit (11 px text) and the gap around a line it must not touch.
DIGIT_WIDTH, CLEARANCE = 7.0, 4.0


@dataclass(frozen=True)
class Layout:
    """How a chart is laid out: names left of the bars (wide) or above each bar (narrow)."""

    width: int  # SVG user units: pixels in the page
    left: float  # where the bars start
    row: float  # height of one department's row
    bar_top: float  # the bar's offset in its row
    label_characters: int
    names_above: bool = False
    suffix: str = ""  # of the chart's id: both layouts are in the page, CSS shows one


# The PDF draws the wide chart narrower, so its text prints larger. The narrow one is what a
# phone shows: at 400 units across it is drawn near its own size, so its text stays readable.
WIDE = Layout(960, 220, 26, 5, 30)
PDF = replace(WIDE, width=720)
NARROW = Layout(400, 8, 40, 20, 56, names_above=True, suffix="-narrow")


@dataclass(frozen=True)
class Scale:
    """A linear value axis from 0 to a round maximum, mapped onto pixels from `left`."""

    top: int
    step: int
    left: float
    width: float

    @classmethod
    def fitting(cls, largest: float, left: float, width: float) -> Scale:
        """A scale whose round maximum holds `largest`, with about five ticks."""
        step = _round_step(max(largest, 1) / 5)
        return cls(step * math.ceil(max(largest, 1) / step), step, left, width)

    def x(self, value: float) -> float:
        return self.left + self.width * value / self.top

    @property
    def ticks(self) -> list[tuple[float, int]]:
        return [(self.x(v), v) for v in range(0, self.top + 1, self.step)]


def _round_step(rough: float) -> int:
    """The smallest of 1, 2, 5 times a power of ten, at least 1, not below `rough`."""
    power = 10 ** max(0, math.floor(math.log10(rough))) if rough >= 1 else 1
    return next(m * power for m in (1, 2, 5, 10) if m * power >= rough)


@dataclass(frozen=True)
class Segment:
    """A coloured stretch of a bar: `hires` of one kind (a quarter, or all of them)."""

    x: float
    width: float
    colour: str
    title: str
    hires: int


@dataclass(frozen=True)
class Bar:
    """One department's bar: its id, label, coloured segments and the total after its end."""

    key: int
    name: str
    label: str
    y: float
    total: int
    end: float
    segments: list[Segment]
    above: bool = False
    total_x: float = 0.0  # where the total is written: past the mean line if it would cross it


@dataclass(frozen=True)
class Chart:
    """What a chart template draws; sizes are SVG user units (pixels in the page)."""

    id: str
    title: str
    width: int
    height: int
    top: float  # y of the first bar's row
    plot_bottom: float  # y of the value axis
    scale: Scale
    axis_title: str
    legend: list[tuple[str, str]]
    bars: list[Bar]
    mean: float | None = None
    plot_left: float = WIDE.left
    bar_height: float = BAR_HEIGHT
    names_above: bool = False


def _label(name: str, characters: int) -> str:
    # Long names would run into the bars; the tables below carry them in full. A shared name's
    # id (at the end) is kept whole, so the shortened labels stay distinct.
    if len(name) <= characters:
        return name
    base, marker, key = name.rpartition(" (#")
    tail = f"{marker}{key}" if marker and key.endswith(")") else ""
    head = base if tail else name
    return head[: characters - 1 - len(tail)].rstrip() + "…" + tail


def _total_x(end: float, total: int, mean_x: float | None) -> float:
    """Where a bar's total goes: just after the bar, or just past the mean line when the text
    would otherwise run through it."""
    x = end + 5
    width = DIGIT_WIDTH * len(str(total))
    if mean_x is not None and x - CLEARANCE <= mean_x <= x + width + CLEARANCE:
        return mean_x + CLEARANCE + 1
    return x


def _bar_chart(
    report: Report,
    layout: Layout,
    name: str,
    title: str,
    legend: list[tuple[str, str]],
    top: float,
    rows: list[tuple[int, list[tuple[str, int]], bool]],
    mean: float | None = None,
) -> Chart:
    """A chart of one bar per (department id, segments as (title, hires), above) in `rows`."""
    labels = department_labels(report)
    plot_bottom = top + len(rows) * layout.row
    largest = max([sum(h for _, h in segments) for _, segments, _ in rows] + [mean or 0])
    scale = Scale.fitting(largest, layout.left, layout.width - layout.left - RIGHT)
    mean_x = scale.x(mean) if mean is not None else None
    colours = {f"Q{q + 1}": colour for q, colour in enumerate(QUARTER_COLOURS)}
    bars = []
    for index, (key, parts, above) in enumerate(rows):
        start, segments = 0, []
        for part, hires in parts:
            if hires:
                x = scale.x(start)
                colour = colours.get(part) or (ABOVE_COLOUR if above else OTHER_COLOUR)
                segments.append(Segment(x, scale.x(start + hires) - x, colour, part, hires))
                start += hires
        end = scale.x(start)
        y = top + index * layout.row + layout.bar_top
        label = _label(labels[key], layout.label_characters)
        total_x = _total_x(end, start, mean_x)
        bars.append(Bar(key, labels[key], label, y, start, end, segments, above, total_x))
    return Chart(
        id=f"{name}{layout.suffix}",
        title=title,
        width=layout.width,
        height=int(plot_bottom + BOTTOM),
        top=top,
        plot_bottom=plot_bottom,
        scale=scale,
        axis_title=f"Employees hired in {report.year}",
        legend=legend,
        bars=bars,
        mean=mean,
        plot_left=layout.left,
        names_above=layout.names_above,
    )


def quarters_chart(report: Report, layout: Layout = WIDE) -> Chart:
    """Hires per quarter for each department, stacked, departments in alphabetical order."""
    totals = _quarter_totals(report)
    names = department_names(report)
    keys = sorted(totals, key=lambda key: (names[key], key))
    rows = [(key, [(f"Q{q + 1}", h) for q, h in enumerate(totals[key])], False) for key in keys]
    return _bar_chart(
        report,
        layout,
        "chart-quarters",
        f"Employees hired in {report.year} per department, by quarter",
        [(f"Q{q + 1}", colour) for q, colour in enumerate(QUARTER_COLOURS)],
        44.0,
        rows,
    )


def _quarter_totals(report: Report) -> dict[int, list[int]]:
    """Each department's hires in Q1..Q4 by id, every department included, those without too."""
    totals = {d.id: [0] * 4 for d in report.against.departments}
    for row in report.quarters:
        sums = totals.setdefault(row.department_id, [0] * 4)
        for index, hires in enumerate(row.quarters):
            sums[index] += hires
    return totals


def mean_chart(report: Report, layout: Layout = WIDE) -> Chart:
    """Every department's hires in the year against the mean, in AgainstMean's order."""
    above = {d.id for d in report.against.above}
    rows = [(d.id, [("hired", d.hired)], d.id in above) for d in report.against.departments]
    return _bar_chart(
        report,
        layout,
        "chart-mean",
        f"Employees hired in {report.year} per department against the {mean_meaning(report)}",
        [("above the mean", ABOVE_COLOUR), ("at or below the mean", OTHER_COLOUR)],
        56.0,
        rows,
        report.against.mean,
    )
