"""The department and job table: each department's jobs with their hires per quarter, its
subtotal, and the year's totals."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from hrdata.metrics.report.snapshot import Report
from hrdata.metrics.report.wording import department_labels, job_labels


@dataclass(frozen=True)
class JobLine:
    """One job of a department in the breakdown: its label and hires per quarter."""

    job_id: int
    label: str
    quarters: tuple[int, int, int, int]

    @property
    def total(self) -> int:
        return sum(self.quarters)


@dataclass(frozen=True)
class DepartmentGroup:
    """One department of the breakdown: its jobs, and their subtotal per quarter."""

    id: int
    label: str
    jobs: list[JobLine]

    @property
    def quarters(self) -> tuple[int, int, int, int]:
        return _sums(job.quarters for job in self.jobs)

    @property
    def total(self) -> int:
        return sum(self.quarters)


def _sums(rows: Iterable[tuple[int, int, int, int]]) -> tuple[int, int, int, int]:
    q1, q2, q3, q4 = (0, 0, 0, 0)
    for row in rows:
        q1, q2, q3, q4 = q1 + row[0], q2 + row[1], q3 + row[2], q4 + row[3]
    return (q1, q2, q3, q4)


def department_groups(report: Report) -> list[DepartmentGroup]:
    """The department and job table as groups, one per department id, in the query's order."""
    departments, jobs = department_labels(report), job_labels(report)
    groups: dict[int, list[JobLine]] = {}
    for row in report.quarters:
        line = JobLine(row.job_id, jobs[row.job_id], row.quarters)
        groups.setdefault(row.department_id, []).append(line)
    return [DepartmentGroup(key, departments[key], lines) for key, lines in groups.items()]


def year_totals(groups: list[DepartmentGroup]) -> tuple[int, int, int, int]:
    """The totals row: every department's hires per quarter, added up."""
    return _sums(group.quarters for group in groups)
