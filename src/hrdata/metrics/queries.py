"""The two hiring metrics, each defined once in SQL and parameterised by year.

Quarters are those of the UTC instant. Names sort by code point (COLLATE "C"), so the order is
the same on every server whatever its locale.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import psycopg

MeanOver = Literal["all", "hiring"]

_IN_YEAR = (
    "e.datetime >= make_timestamptz(%(year)s, 1, 1, 0, 0, 0, 'UTC') "
    "AND e.datetime < make_timestamptz(%(year)s + 1, 1, 1, 0, 0, 0, 'UTC')"
)

HIRES_BY_QUARTER = f"""
SELECT d.department, j.job,
       count(*) FILTER (WHERE extract(quarter FROM e.datetime AT TIME ZONE 'UTC') = 1) AS q1,
       count(*) FILTER (WHERE extract(quarter FROM e.datetime AT TIME ZONE 'UTC') = 2) AS q2,
       count(*) FILTER (WHERE extract(quarter FROM e.datetime AT TIME ZONE 'UTC') = 3) AS q3,
       count(*) FILTER (WHERE extract(quarter FROM e.datetime AT TIME ZONE 'UTC') = 4) AS q4
FROM hired_employees e
JOIN departments d ON d.id = e.department_id
JOIN jobs j ON j.id = e.job_id
WHERE {_IN_YEAR}
GROUP BY d.id, j.id
ORDER BY d.department COLLATE "C", j.job COLLATE "C", d.id, j.id
"""

DEPARTMENTS_ABOVE_MEAN = f"""
WITH hires AS (
    SELECT d.id, d.department, count(e.id) AS hired
    FROM departments d
    LEFT JOIN hired_employees e ON e.department_id = d.id AND {_IN_YEAR}
    GROUP BY d.id
)
SELECT id, department, hired
FROM hires
WHERE hired > (SELECT avg(hired) FROM hires WHERE %(mean_over)s = 'all' OR hired > 0)
ORDER BY hired DESC, id
"""

FRESHNESS = "SELECT count(*), max(datetime) FROM hired_employees"


@dataclass(frozen=True)
class QuarterRow:
    department: str
    job: str
    q1: int
    q2: int
    q3: int
    q4: int


@dataclass(frozen=True)
class DepartmentRow:
    id: int
    department: str
    hired: int


def hires_by_quarter(conn: psycopg.Connection, year: int) -> list[QuarterRow]:
    """Hires per department and job in `year`, split by quarter; only pairs that hired."""
    return [QuarterRow(*row) for row in conn.execute(HIRES_BY_QUARTER, {"year": year})]


def departments_above_mean(
    conn: psycopg.Connection, year: int, mean_over: MeanOver = "all"
) -> list[DepartmentRow]:
    """Departments that hired more in `year` than the mean per department.

    `all`: the mean over every department, those without hires counting 0. `hiring`: the mean
    over the departments that hired in the year (the original PoC's reading).
    """
    params: dict[str, Any] = {"year": year, "mean_over": mean_over}
    return [DepartmentRow(*row) for row in conn.execute(DEPARTMENTS_ABOVE_MEAN, params)]
