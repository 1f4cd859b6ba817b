"""The messages hrdata exchanges, declared once: the API answers with them, the desktop client
reads them back, a backup's manifest lists its files with them. Only pydantic and dataclasses
here, so the client needs nothing else of the server."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


@dataclass(frozen=True, slots=True)
class Reason:
    """Why one row was rejected: a stable code, the column (if any), and a sentence."""

    code: str
    message: str
    column: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "column": self.column}


class ErrorDetail(BaseModel):
    type: str
    message: str
    details: list[Any] | None = None


# Rows one API request may carry, at most.
MAX_BATCH_ROWS = 1000


class RejectedRow(BaseModel):
    """A row the API refused: its position in the batch, its line in a CSV body, why."""

    index: int
    line: int | None = None
    reasons: list[Reason]


class BatchResponse(BaseModel):
    """What happened to a batch: rows inserted, skipped as already present, rejected (why)."""

    request_id: str
    table: str
    inserted: int
    skipped: int
    rejected: list[RejectedRow]
    warnings: list[str] = Field(
        default_factory=list,
        description="What went wrong after the rows were committed, e.g. the rejects log "
        "could not be written yet (it is written later; the rejects are in GET /v1/rejects)",
    )
    error: ErrorDetail | None = None


class Job(BaseModel):
    """A background job (migration, backup, verify, restore): status, progress, result."""

    job_id: str
    kind: str
    status: str
    request: dict[str, Any]
    progress: dict[str, Any]
    result: dict[str, Any] | None
    error: str | None
    created_at: datetime
    updated_at: datetime

    @property
    def running(self) -> bool:
        return self.status == "running"


@dataclass
class TableFile:
    """One table's file in a backup set: its rows, size, checksum and schema."""

    table: str
    file: str
    rows: int
    bytes: int
    sha256: str
    schema_fingerprint: str


class BackupOut(BaseModel):
    backup_id: str
    created_at: str
    hrdata_version: str
    codec: str
    tables: dict[str, TableFile]


class ListedBackupOut(BaseModel):
    """A set as listed: complete (its manifest), or broken (why; the manifest fields null)."""

    backup_id: str
    status: Literal["complete", "broken"]
    problem: str | None = Field(description="Why a broken set's manifest cannot be read")
    created_at: str | None
    hrdata_version: str | None
    codec: str | None
    tables: dict[str, TableFile]

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables.values())

    @property
    def bytes(self) -> int:
        return sum(t.bytes for t in self.tables.values())


# The rows of the two metrics, as the server computes them and the client reads them back.
@dataclass(frozen=True)
class QuarterRow:
    """One department and job's hires in each quarter; the ids are the row's key."""

    department_id: int
    department: str
    job_id: int
    job: str
    q1: int
    q2: int
    q3: int
    q4: int

    @property
    def quarters(self) -> tuple[int, int, int, int]:
        return (self.q1, self.q2, self.q3, self.q4)

    @property
    def total(self) -> int:
        return self.q1 + self.q2 + self.q3 + self.q4


@dataclass(frozen=True)
class DepartmentRow:
    """One department's hires in the year; `id` is the row's key."""

    id: int
    department: str
    hired: int


@dataclass(frozen=True)
class HiresByQuarter:
    """The first metric as the desktop client reads it: the year's rows by quarter."""

    year: int
    rows: tuple[QuarterRow, ...]


@dataclass(frozen=True)
class DepartmentsAboveMean:
    """The second metric as the desktop client reads it: the mean and who hired above it."""

    year: int
    mean_over: str
    mean: float | None
    rows: tuple[DepartmentRow, ...]


class Me(BaseModel):
    """The key a request was made with: its id, its holder's name, its role."""

    key_id: str
    name: str
    role: str
