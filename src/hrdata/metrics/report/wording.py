"""The words the page and the PDF share: headings, the headline, the mean and the data line,
and each department's and job's label."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from hrdata.labels import distinct_labels
from hrdata.metrics.report.snapshot import Report

QUARTERS_HEADING = "Employees hired per department, by quarter"
NONE_ABOVE = "No department hired more than the mean"
MEAN_HEADING = "Employees hired per department against the mean"


def has_hires(report: Report) -> bool:
    """Whether anyone was hired in the report's year."""
    return bool(report.quarters) or any(d.hired for d in report.against.departments)


def no_hires(report: Report) -> str:
    """What each part of the report says for a year without hires."""
    return f"No hires in {report.year}"


def _count(number: int, word: str, plural: str | None = None) -> str:
    """`1 hire`, `2 hires`, `1,644 hires`."""
    return f"{number:,} {word if number == 1 else plural or word + 's'}"


@dataclass(frozen=True)
class Figure:
    """One number of the headline, and the words after it that say what it counts."""

    id: str
    value: str
    words: str


def headline(report: Report) -> list[Figure]:
    """The year at a glance: its hires, how many departments beat the mean, the change
    against the year before. A year without hires (the page says so) has only the change,
    and only when the year before had hires."""
    hires = sum(row.total for row in report.quarters)
    year, previous = report.year, report.previous_hires
    if previous is None:
        change = Figure("headline-change", "n/a", f"no year before {year} to compare with")
    elif previous == 0:
        change = Figure("headline-change", f"{hires:+,}", f"against {year - 1}, which had no hires")
    else:
        percent = f"{(hires - previous) / previous:+.1%}"
        words = f"against {year - 1} ({_count(previous, 'hire')}, {percent})"
        change = Figure("headline-change", f"{hires - previous:+,}", words)
    if not has_hires(report):
        return [change] if previous else []
    counted = len(report.against.departments)
    mean = report.against.mean or 0.0
    above = len(report.against.above)
    return [
        Figure("headline-hires", f"{hires:,}", f"{'hire' if hires == 1 else 'hires'} in {year}"),
        Figure(
            "headline-above",
            f"{above:,} of {counted:,}",
            f"{'department' if counted == 1 else 'departments'} hired more than the mean, "
            f"{mean:.2f} per department",
        ),
        change,
    ]


def department_names(report: Report) -> dict[int, str]:
    """Each department's name by id: every department, and any the quarters name besides."""
    names = {r.department_id: r.department for r in report.quarters}
    return names | {d.id: d.department for d in report.against.departments}


def department_labels(report: Report) -> dict[int, str]:
    """Each department's label by id: its name, with its id when another shares the name."""
    return distinct_labels(department_names(report).items())


def job_labels(report: Report) -> dict[int, str]:
    """Each job's label by id, as `department_labels`."""
    return distinct_labels((r.job_id, r.job) for r in report.quarters)


def mean_text(report: Report) -> str:
    """The mean as shown next to the table of departments above it."""
    if report.against.mean is None:
        return "none (no department to average over)"
    return f"{report.against.mean:.2f} hires per department"


def mean_meaning(report: Report) -> str:
    """Which departments the mean is taken over, in words."""
    if report.mean_over == "all":
        return "mean over all departments, those without hires counting 0"
    return f"mean over departments that hired in {report.year}"


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def data_line(report: Report) -> str:
    """What data the report reflects, when it was made and which mean it uses."""
    state = report.state
    latest = _utc(state.latest_change) if state.latest_change else "none recorded"
    return (
        f"Reflects {state.hired_employees:,} hired_employees rows, {state.departments:,} "
        f"departments and {state.jobs:,} jobs; latest change {latest} (UTC). "
        f"Generated {_utc(report.generated_at)}. Departments are compared with the "
        f"{mean_meaning(report)}."
    )
