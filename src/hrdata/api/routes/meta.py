"""What a client asks first: who it is connected as, and the data dictionary."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from hrdata.api.deps import ReadCaller, get_caller
from hrdata.api.errors import documented
from hrdata.api.strict_json import StrictJsonRoute
from hrdata.auth import Caller
from hrdata.dictionary import TABLES
from hrdata.wire import Me

router = APIRouter(prefix="/v1", tags=["dictionary"], route_class=StrictJsonRoute)


@router.get("/me", summary="The caller's key: id, name and role", responses=documented(401))
def me(caller: Annotated[Caller, Depends(get_caller)]) -> Me:
    return Me(key_id=caller.key_id, name=caller.name, role=caller.role)


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
                    type=c.type.name,
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
