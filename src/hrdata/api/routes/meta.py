"""The data dictionary, as the API serves it."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from hrdata.api.deps import ReadCaller
from hrdata.api.errors import documented
from hrdata.dictionary import TABLES

router = APIRouter(prefix="/v1", tags=["dictionary"])


class ColumnInfo(BaseModel):
    name: str
    type: str
    sql_type: str
    description: str
    rules: str
    primary_key: bool
    references: str | None


class TableInfo(BaseModel):
    name: str
    description: str
    columns: list[ColumnInfo]


@router.get(
    "/dictionary", summary="Tables, columns, types and rules", responses=documented(401, 403)
)
def dictionary(_: ReadCaller) -> list[TableInfo]:
    return [
        TableInfo(
            name=t.name,
            description=t.description,
            columns=[
                ColumnInfo(
                    name=c.name,
                    type=c.type,
                    sql_type=c.sql_type,
                    description=c.description,
                    rules=c.rules(),
                    primary_key=c.primary_key,
                    references=c.references,
                )
                for c in t.columns
            ],
        )
        for t in TABLES
    ]
