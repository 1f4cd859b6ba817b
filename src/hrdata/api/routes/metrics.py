"""The two hiring metrics, as JSON or CSV, each answer naming the data it reflects.

Every row carries the ids of its department (and job) beside their names: names may repeat,
ids never do, so a consumer keys rows by `department_id` and `job_id`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from hrdata.api.deps import ConnectionDep, ReadCaller
from hrdata.api.errors import documented
from hrdata.api.strict_json import StrictJsonRoute
from hrdata.dictionary import HIRE_YEARS
from hrdata.metrics import (
    DataState,
    MeanOver,
    data_state,
    departments_against_mean,
    hires_by_quarter,
    snapshot,
)
from hrdata.spreadsheet import csv_text

router = APIRouter(prefix="/v1/metrics", tags=["metrics"], route_class=StrictJsonRoute)

Year = Annotated[
    int,
    Query(
        ge=HIRE_YEARS[0], le=HIRE_YEARS[1], description="The calendar year, in UTC", examples=[2021]
    ),
]
Format = Annotated[
    Literal["json", "csv"] | None,
    Query(description="`csv` for text/csv; by default the Accept header decides, else JSON"),
]


class DataReflected(BaseModel):
    """Which data the answer was computed from, in the same snapshot."""

    hired_employees: int = Field(description="Rows in hired_employees", examples=[1930])
    departments: int = Field(examples=[12])
    jobs: int = Field(examples=[183])
    latest_change: datetime | None = Field(
        description="When any of the three tables last changed (UTC)",
        examples=["2026-11-25T12:00:00Z"],
    )


class QuarterOut(BaseModel):
    department_id: int = Field(description="The row's key, with job_id", examples=[1])
    department: str = Field(examples=["Accounting"])
    job_id: int = Field(examples=[112])
    job: str = Field(examples=["Account Representative IV"])
    Q1: int = Field(examples=[1])
    Q2: int = Field(examples=[0])
    Q3: int = Field(examples=[0])
    Q4: int = Field(examples=[0])


class HiresByQuarter(BaseModel):
    """Hires per department and job in the year, by UTC quarter; ordered by department, job."""

    year: int
    rows: list[QuarterOut]
    data: DataReflected


class DepartmentOut(BaseModel):
    id: int = Field(description="The department's id (as department_id)", examples=[8])
    department_id: int = Field(examples=[8])
    department: str = Field(examples=["Support"])
    hired: int = Field(examples=[217])


class DepartmentsAboveMean(BaseModel):
    """Departments that hired more than the mean per department; most hires first."""

    year: int
    mean_over: MeanOver
    mean: float | None = Field(description="Mean hires per department; null with none counted")
    rows: list[DepartmentOut]
    data: DataReflected


_QUARTER_COLUMNS = ("department_id", "department", "job_id", "job", "Q1", "Q2", "Q3", "Q4")
_DEPARTMENT_COLUMNS = ("id", "department_id", "department", "hired")


def _csv_example(columns: Sequence[str], row: Sequence[Any]) -> str:
    return ",".join(columns) + "\r\n" + ",".join(map(str, row)) + "\r\n"


def _content(
    model: type[BaseModel], columns: Sequence[str], row: Sequence[Any]
) -> dict[int | str, dict[str, Any]]:
    return {
        200: {
            "model": model,
            "content": {"text/csv": {"example": _csv_example(columns, row)}},
            "description": "JSON, or CSV (a header row, then the rows) on request. "
            "X-Data-Rows and X-Data-Latest-Change name the data reflected.",
        },
        **documented(401, 403, 503),
    }


def _wants_csv(request: Request, format: str | None) -> bool:
    if format is not None:
        return format == "csv"
    return "text/csv" in request.headers.get("accept", "")


def _answer(
    fields: dict[str, Any],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    state: DataState,
    as_csv: bool,
) -> Response:
    """The rows as CSV, or as JSON with `fields` and `data` (the response models document it;
    a few thousand rows are serialised directly, not through a model each)."""
    latest = state.latest_change.isoformat() if state.latest_change else None
    headers = {
        "X-Data-Rows": str(state.hired_employees),
        "X-Data-Latest-Change": latest or "",
        "Cache-Control": "no-store",  # always current: never served from a cache
    }
    if as_csv:
        text = csv_text(columns, rows)  # names that would run as formulas are neutralised
        return Response(text, media_type="text/csv; charset=utf-8", headers=headers)
    data = {
        "hired_employees": state.hired_employees,
        "departments": state.departments,
        "jobs": state.jobs,
        "latest_change": latest,
    }
    body = {**fields, "rows": [dict(zip(columns, row, strict=True)) for row in rows], "data": data}
    return JSONResponse(body, headers=headers)


@router.get(
    "/hires-by-quarter",
    summary="Hires per department and job in a year, by quarter",
    response_model=HiresByQuarter,
    responses=_content(
        HiresByQuarter, _QUARTER_COLUMNS, (1, "Accounting", 25, "Auditor", 1, 0, 2, 0)
    ),
)
def get_hires_by_quarter(
    _: ReadCaller,
    conn: ConnectionDep,
    request: Request,
    year: Year = 2021,
    format: Format = None,
) -> Response:
    with snapshot(conn):
        quarters = hires_by_quarter(conn, year)
        state = data_state(conn)
    rows = [
        (q.department_id, q.department, q.job_id, q.job, q.q1, q.q2, q.q3, q.q4) for q in quarters
    ]
    fields = {"year": year}
    return _answer(fields, _QUARTER_COLUMNS, rows, state, _wants_csv(request, format))


@router.get(
    "/departments-above-mean",
    summary="Departments that hired more than the mean per department in a year",
    response_model=DepartmentsAboveMean,
    responses=_content(DepartmentsAboveMean, _DEPARTMENT_COLUMNS, (8, 8, "Support", 217)),
)
def get_departments_above_mean(
    _: ReadCaller,
    conn: ConnectionDep,
    request: Request,
    year: Year = 2021,
    mean_over: Annotated[
        MeanOver,
        Query(
            description="`all`: every department, those without hires counting 0. "
            "`hiring`: only departments that hired in the year (the original PoC)."
        ),
    ] = "all",
    format: Format = None,
) -> Response:
    with snapshot(conn):
        against = departments_against_mean(conn, year, mean_over)
        state = data_state(conn)
    rows = [(d.id, d.id, d.department, d.hired) for d in against.above]
    fields = {"year": year, "mean_over": mean_over, "mean": against.mean}
    return _answer(fields, _DEPARTMENT_COLUMNS, rows, state, _wants_csv(request, format))
