"""The two metrics over the original export, computed in plain Python from the CSV files:
the independent answer the SQL is checked against."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import datetime

from hrdata.wire import DepartmentRow, QuarterRow
from tests.support.paths import CHALLENGE


def read(name: str) -> list[list[str]]:
    with open(CHALLENGE / name, newline="") as f:
        return list(csv.reader(f))


def valid_hires() -> list[tuple[int, int, datetime]]:
    """(department id, job id, instant) of every employee row the loader accepts."""
    hires = []
    for row in read("hired_employees.csv"):
        if all(v.strip() for v in row):
            hires.append((int(row[3]), int(row[4]), datetime.fromisoformat(row[2])))
    return hires


def expected_quarters(year: int = 2021) -> list[QuarterRow]:
    departments = {int(r[0]): r[1] for r in read("departments.csv")}
    jobs = {int(r[0]): r[1] for r in read("jobs.csv")}
    counts: Counter[tuple[int, int, int]] = Counter()
    for department, job, instant in valid_hires():
        if instant.year == year:
            counts[(department, job, (instant.month - 1) // 3 + 1)] += 1
    pairs = sorted(
        {(d, j) for d, j, _ in counts}, key=lambda p: (departments[p[0]], p[0], jobs[p[1]], p[1])
    )
    return [
        QuarterRow(d, departments[d], j, jobs[j], *(counts[(d, j, q)] for q in (1, 2, 3, 4)))
        for d, j in pairs
    ]


def expected_hires(year: int = 2021) -> int:
    return sum(1 for _, _, instant in valid_hires() if instant.year == year)


def expected_mean(year: int = 2021, mean_over: str = "all") -> float:
    departments = {int(r[0]) for r in read("departments.csv")}
    hired = Counter(d for d, _, instant in valid_hires() if instant.year == year)
    counted = [hired[d] for d in departments] if mean_over == "all" else list(hired.values())
    return sum(counted) / len(counted)


def expected_above_mean(year: int = 2021, mean_over: str = "all") -> list[DepartmentRow]:
    departments = {int(r[0]): r[1] for r in read("departments.csv")}
    hired = Counter(d for d, _, instant in valid_hires() if instant.year == year)
    mean = expected_mean(year, mean_over)
    above = [DepartmentRow(d, departments[d], hired[d]) for d in departments if hired[d] > mean]
    return sorted(above, key=lambda r: (-r.hired, r.id))
