"""Rows of a table: post a batch of 1 to 1000 (JSON or CSV), read them back page by page."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from hrdata.api.deps import NO_NUL, ConnectionDep, IngestCaller, ReadCaller, SettingsDep
from hrdata.api.errors import documented
from hrdata.api.idempotency import Answer, Idempotency, claim, remember
from hrdata.api.logs import request_id
from hrdata.api.strict_json import StrictJsonRoute
from hrdata.dictionary import MAX_INTEGER, TABLES
from hrdata.dictionary import table as table_named
from hrdata.errors import BadRequestBody, PayloadTooLarge, UnsupportedMediaType
from hrdata.ingest import jsonbody
from hrdata.ingest.batch import BatchResult, BatchWriter, csv_rows, json_rows
from hrdata.ingest.stored import rows_after
from hrdata.schema import row_json_schema
from hrdata.wire import MAX_BATCH_ROWS, BatchResponse, ErrorDetail, RejectedRow

router = APIRouter(prefix="/v1/tables", tags=["rows"], route_class=StrictJsonRoute)

TablePath = Annotated[
    str,
    Path(
        description="A table of the data dictionary",
        json_schema_extra={"enum": [t.name for t in TABLES]},
    ),
]


_BODY_SCHEMA = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["rows"],
                "additionalProperties": False,
                "properties": {
                    "rows": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": MAX_BATCH_ROWS,
                        "items": {"oneOf": [row_json_schema(t) for t in TABLES]},
                    }
                },
            },
            "example": {"rows": [{"id": 1, "department": "Supply Chain"}]},
        },
        "text/csv": {
            "schema": {"type": "string"},
            "example": "id,department\r\n1,Supply Chain\r\n",
        },
    },
}


@router.post(
    "/{table}/rows",
    summary="Insert a batch of 1 to 1000 rows",
    description=(
        "Each row is checked against the data dictionary. Valid rows are inserted in one "
        "transaction; invalid ones are not, and come back with their index and every reason. "
        "A row whose id is already stored is skipped when identical and rejected when not. "
        "`mode=strict` inserts nothing when any row is invalid (422). A retried request with "
        "the same `Idempotency-Key` gets the first answer and inserts nothing more."
    ),
    response_model=BatchResponse,
    responses=documented(401, 403, 404, 409, 413, 415, 422, 503),
    openapi_extra={"requestBody": _BODY_SCHEMA},
)
async def post_rows(
    request: Request,
    table: TablePath,
    caller: IngestCaller,
    conn: ConnectionDep,
    settings: SettingsDep,
    mode: Annotated[Literal["lenient", "strict"], Query()] = "lenient",
    idempotency_key: Annotated[str | None, Header(max_length=255, pattern=NO_NUL)] = None,
) -> JSONResponse:
    target = table_named(table)
    kind = _content_kind(request.headers.get("content-type", ""))
    body = await _read_body(request, settings.api_max_body_bytes)
    idempotency = (
        Idempotency.of(caller.key_id, idempotency_key, table, mode, kind, body)
        if idempotency_key
        else None
    )
    current = request_id.get() or ""

    def work() -> Answer:
        batch = (
            csv_rows(target, body, settings.max_line_bytes)
            if kind == "csv"
            else json_rows(target, _json_rows(body))
        )
        source = f"api request {current}"
        with BatchWriter(conn, settings, target, request_id=current, source=source) as writer:
            with conn.transaction():
                if idempotency is not None and (replay := claim(conn, idempotency)) is not None:
                    return replay
                result = writer.write(batch, strict=mode == "strict")
                if idempotency is not None:
                    remember(conn, idempotency, _answer(result))
            writer.publish(result)
        return _answer(result)

    status, payload = await run_in_threadpool(work)
    return JSONResponse(payload, status_code=status)


def _answer(result: BatchResult) -> Answer:
    """The HTTP status and body of a batch: 422 when strict mode refused it, else 200."""
    refused = (
        {}
        if result.refused is None
        else {"error": ErrorDetail(type="rows_rejected", message=result.refused)}
    )
    response = BatchResponse(
        request_id=result.request_id,
        table=result.table,
        inserted=result.inserted,
        skipped=result.skipped,
        rejected=[
            RejectedRow(
                index=row.index,
                reasons=row.reasons,
                **({} if row.line is None else {"line": row.line}),
            )
            for row in result.rejected
        ],
        warnings=result.warnings,
        **refused,
    )
    # Unset fields stay out: `line` only for CSV rows, `error` only for a refused batch.
    return (200 if result.refused is None else 422), response.model_dump(exclude_unset=True)


def _content_kind(content_type: str) -> Literal["json", "csv"]:
    media = content_type.split(";")[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        return "json"
    if media == "text/csv":
        return "csv"
    raise UnsupportedMediaType(
        f"send rows as application/json or text/csv, not {media or 'a body without a type'}"
    )


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the body is {declared} bytes; the limit is {limit}")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(f"the body is over the limit of {limit} bytes")
    return bytes(body)


def _json_rows(body: bytes) -> Any:
    document = jsonbody.loads(body)
    if not isinstance(document, dict) or not isinstance(document.get("rows"), list):
        raise BadRequestBody('expected a JSON object {"rows": [ {...}, ... ]}')
    if isinstance(document, jsonbody.RepeatedKeys):
        raise BadRequestBody(f"key(s) given more than once: {', '.join(document.repeated)[:200]}")
    extra = sorted(set(document) - {"rows"})
    if extra:
        raise BadRequestBody(f"unexpected key(s) beside rows: {', '.join(extra)[:200]}")
    return document["rows"]


class RowsPage(BaseModel):
    """One page of rows in id order; pass `next_after` as `after` for the next page."""

    rows: list[dict[str, Any]]
    next_after: int | None


@router.get(
    "/{table}/rows",
    summary="Read rows in id order, page by page",
    responses=documented(401, 403, 404, 503),
)
def get_rows(
    table: TablePath,
    _: ReadCaller,
    conn: ConnectionDep,
    after: Annotated[int, Query(ge=0, le=MAX_INTEGER, description="Rows with a greater id")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_BATCH_ROWS)] = 100,
) -> RowsPage:
    found = rows_after(conn, table_named(table), after, limit)
    rows = [{name: _json_value(value) for name, value in row.items()} for row in found]
    return RowsPage(rows=rows, next_after=rows[-1]["id"] if len(rows) == limit else None)


def _json_value(value: Any) -> Any:
    return value.isoformat().replace("+00:00", "Z") if isinstance(value, datetime) else value
