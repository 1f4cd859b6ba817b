"""The two hiring metrics, each defined once in SQL and parameterised by year.

Both read the year's hires per quarter, department and job from `counts.CURRENT` (kept by
triggers, exact at every commit); `counts.RECOUNTED` gives the same relation from the rows
themselves, which the tests use to prove the two agree. Quarters are those of the UTC instant.
Rows are keyed by ids, never by names: two departments (or jobs) with one name stay two rows.
Names sort by code point (COLLATE "C"), the same order on every server whatever its locale.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import psycopg
from psycopg import sql

from hrdata.metrics import counts
from hrdata.wire import DepartmentRow, QuarterRow

MeanOver = Literal["all", "hiring"]
MEAN_OVER: tuple[MeanOver, ...] = ("all", "hiring")


def _in_quarter(number: int) -> sql.Composed:
    starts = sql.SQL("make_date(%(year)s, {}, 1)").format(sql.Literal(number * 3 - 2))
    return sql.SQL("coalesce(sum(hires) FILTER (WHERE quarter = {}), 0)::bigint").format(starts)


# Summed per department and job first, then named: a few thousand pairs join two small tables.
HIRES_BY_QUARTER = sql.SQL("""
WITH c AS ({counts}),
pairs AS (
    SELECT department_id, job_id,
           {quarters}
    FROM c
    GROUP BY department_id, job_id
    HAVING sum(hires) > 0
)
SELECT p.department_id, d.department, p.job_id, j.job, p.q1, p.q2, p.q3, p.q4
FROM pairs p
JOIN departments d ON d.id = p.department_id
JOIN jobs j ON j.id = p.job_id
ORDER BY d.department COLLATE "C", d.id, j.job COLLATE "C", j.id
""")
_QUARTERS = sql.SQL(", ").join(
    sql.SQL("{} AS {}").format(_in_quarter(number), sql.Identifier(name))
    for number, name in enumerate(("q1", "q2", "q3", "q4"), start=1)
)

# Everyone hired in the year: the total both metrics split up (the report's headline).
HIRES_IN_YEAR = sql.SQL("""
WITH c AS ({counts})
SELECT coalesce(sum(hires), 0)::bigint FROM c
""")

# Every department with its hires in the year and the mean; `above` is the metric's rule.
DEPARTMENTS_AGAINST_MEAN = sql.SQL("""
WITH c AS ({counts}),
hires AS (
    SELECT d.id, d.department, coalesce(t.hired, 0)::bigint AS hired
    FROM departments d
    LEFT JOIN (SELECT department_id, sum(hires) AS hired FROM c GROUP BY 1) t
        ON t.department_id = d.id
),
mean AS (
    SELECT avg(hired) AS mean FROM hires WHERE %(mean_over)s = 'all' OR hired > 0
)
SELECT id, department, hired, mean, coalesce(hired > mean, false) AS above
FROM hires, mean
ORDER BY hired DESC, id
""")


@dataclass(frozen=True)
class AgainstMean:
    """Every department's hires in the year, the mean they are compared with, and who is above."""

    mean: float | None
    departments: list[DepartmentRow]
    above: list[DepartmentRow]


@dataclass(frozen=True)
class DataState:
    """Which data an answer reflects: row counts and the time of the latest change."""

    hired_employees: int
    departments: int
    jobs: int
    latest_change: datetime | None


def hires_by_quarter(
    conn: psycopg.Connection, year: int, source: sql.Composable = counts.CURRENT
) -> list[QuarterRow]:
    """Hires per department and job in `year`, split by quarter; only pairs that hired."""
    query = HIRES_BY_QUARTER.format(counts=source, quarters=_QUARTERS)
    return [QuarterRow(*row) for row in conn.execute(query, {"year": year})]


def hires_in_year(
    conn: psycopg.Connection, year: int, source: sql.Composable = counts.CURRENT
) -> int:
    """How many were hired in `year` (UTC), all departments and jobs together."""
    row = conn.execute(HIRES_IN_YEAR.format(counts=source), {"year": year}).fetchone()
    return int(row[0]) if row else 0


def departments_against_mean(
    conn: psycopg.Connection,
    year: int,
    mean_over: MeanOver = "all",
    source: sql.Composable = counts.CURRENT,
) -> AgainstMean:
    """Each department's hires in `year` against the mean per department.

    `all`: the mean over every department, those without hires counting 0. `hiring`: the mean
    over the departments that hired in the year (the original PoC's reading).
    """
    params: dict[str, Any] = {"year": year, "mean_over": mean_over}
    rows = conn.execute(DEPARTMENTS_AGAINST_MEAN.format(counts=source), params).fetchall()
    departments = [DepartmentRow(r[0], r[1], r[2]) for r in rows]
    above = [d for d, r in zip(departments, rows, strict=True) if r[4]]
    mean = float(rows[0][3]) if rows and rows[0][3] is not None else None
    return AgainstMean(mean, departments, above)


def departments_above_mean(
    conn: psycopg.Connection, year: int, mean_over: MeanOver = "all"
) -> list[DepartmentRow]:
    """Departments that hired more in `year` than the mean per department, most first."""
    return departments_against_mean(conn, year, mean_over).above


def data_state(conn: psycopg.Connection) -> DataState:
    """Row counts and the latest change time, read from the counts (cheap at any size)."""
    return DataState(*counts.state(conn))


@contextmanager
def snapshot(conn: psycopg.Connection) -> Iterator[psycopg.Connection]:
    """A read-only transaction in which every query sees the same committed data."""
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield conn
