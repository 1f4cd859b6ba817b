"""POST /v1/tables/{table}/rows through HTTP on a real database: rules, bad requests, strict
mode, CSV bodies, idempotent retries."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from hrdata.dictionary import table
from hrdata.errors import BatchSizeError
from hrdata.ingest.batch import json_rows
from hrdata.wire import MAX_BATCH_ROWS
from tests.support.fixture_types import AsRole, RowsIn


@pytest.fixture
def ingest(api: TestClient, as_role: AsRole) -> dict[str, str]:
    return as_role("ingest")


@pytest.fixture
def parents(db: psycopg.Connection) -> None:
    db.execute("INSERT INTO departments VALUES (1, 'Sales'), (2, 'HR')")
    db.execute("INSERT INTO jobs VALUES (10, 'Clerk')")


def employee(i: int, **change: Any) -> dict[str, Any]:
    row = {
        "id": i,
        "name": f"Employee {i}",
        "datetime": "2021-03-01T10:00:00Z",
        "department_id": 1,
        "job_id": 10,
    }
    row.update(change)
    return row


def post(api: TestClient, headers: dict[str, str], table: str, rows: Any, **params: str) -> Any:
    return api.post(f"/v1/tables/{table}/rows", json={"rows": rows}, headers=headers, params=params)


def test_valid_batch_is_inserted(
    api: TestClient, ingest: dict[str, str], rows_in: RowsIn, parents: None
) -> None:
    response = post(api, ingest, "hired_employees", [employee(i) for i in range(1, 1001)])

    assert (200, 1000, []) == (
        response.status_code,
        response.json()["inserted"],
        response.json()["rejected"],
    )
    assert 1000 == rows_in("hired_employees")


def test_invalid_rows_come_back_with_index_and_every_reason(
    api: TestClient, ingest: dict[str, str], db: psycopg.Connection, parents: None
) -> None:
    rows = [
        employee(1),
        employee(2, name=" ", datetime="2021-03-01T10:00:00"),
        employee(3, department_id=9),
    ]

    body = post(api, ingest, "hired_employees", rows).json()

    assert 1 == body["inserted"]
    assert [(1, ["missing", "missing_offset"]), (2, ["unknown_reference"])] == [
        (r["index"], [reason["code"] for reason in r["reasons"]]) for r in body["rejected"]
    ]


def test_rejects_are_logged_with_the_request_as_source(
    api: TestClient, ingest: dict[str, str], db: psycopg.Connection, parents: None
) -> None:
    response = post(api, ingest, "hired_employees", [employee(1, job_id=99)])

    row = db.execute("SELECT source, line, raw FROM rejected_rows").fetchone()
    assert (f"api request {response.json()['request_id']}", 0, employee(1, job_id=99)) == row


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (True, "wrong_type"),
        (7.0, "wrong_type"),
        ({"a": 1}, "wrong_type"),
        ("001", None),
        ("x", "not_an_integer"),
    ],
)
def test_json_types_follow_the_dictionary(
    api: TestClient, ingest: dict[str, str], parents: None, value: Any, code: str | None
) -> None:
    body = post(api, ingest, "hired_employees", [employee(7, department_id=value)]).json()

    assert ([] if code is None else [code]) == [r["reasons"][0]["code"] for r in body["rejected"]]


def test_unknown_field_in_a_row_is_a_reason(api: TestClient, ingest: dict[str, str]) -> None:
    body = post(
        api, ingest, "departments", [{"id": 1, "department": "Sales", "colour": "red"}]
    ).json()

    assert ["unknown_field"] == [r["code"] for r in body["rejected"][0]["reasons"]]


def test_unknown_field_named_with_a_nul_is_a_reason_and_logged(
    api: TestClient, ingest: dict[str, str], rows_in: RowsIn
) -> None:
    body = post(api, ingest, "departments", [{"id": 1, "department": "Sales", "a\x00": 1}]).json()

    assert ["unknown_field"] == [r["code"] for r in body["rejected"][0]["reasons"]]
    assert 1 == rows_in("rejected_rows")


def test_lone_surrogate_in_a_value_is_rejected_as_not_utf8(
    api: TestClient, ingest: dict[str, str], rows_in: RowsIn
) -> None:
    response = api.post(
        "/v1/tables/departments/rows",
        content=b'{"rows": [{"id": 1, "department": "Sales \\ud800"}]}',
        headers={**ingest, "Content-Type": "application/json"},
    )

    assert (200, ["invalid_utf8"]) == (
        response.status_code,
        [r["code"] for r in response.json()["rejected"][0]["reasons"]],
    )
    assert (0, 1) == (rows_in("departments"), rows_in("rejected_rows"))


def test_row_that_is_not_an_object_is_rejected(api: TestClient, ingest: dict[str, str]) -> None:
    body = post(api, ingest, "departments", [[1, "Sales"]]).json()

    assert ["not_an_object"] == [r["code"] for r in body["rejected"][0]["reasons"]]


def test_identical_row_already_stored_is_skipped_and_different_one_rejected(
    api: TestClient, ingest: dict[str, str], db: psycopg.Connection
) -> None:
    post(api, ingest, "departments", [{"id": 1, "department": "Sales"}])

    body = post(
        api,
        ingest,
        "departments",
        [{"id": 1, "department": "Sales"}, {"id": 1, "department": "HR"}],
    ).json()

    assert (0, 1, ["conflict"]) == (
        body["inserted"],
        body["skipped"],
        [r["reasons"][0]["code"] for r in body["rejected"]],
    )


def test_id_repeated_in_the_batch_with_other_values_is_rejected(
    api: TestClient, ingest: dict[str, str]
) -> None:
    body = post(
        api,
        ingest,
        "departments",
        [{"id": 1, "department": "Sales"}, {"id": 1, "department": "HR"}],
    ).json()

    assert (1, [(1, "duplicate_conflict")]) == (
        body["inserted"],
        [(r["index"], r["reasons"][0]["code"]) for r in body["rejected"]],
    )


def test_strict_mode_inserts_nothing_when_a_row_is_invalid(
    api: TestClient, ingest: dict[str, str], rows_in: RowsIn
) -> None:
    response = post(
        api,
        ingest,
        "departments",
        [{"id": 1, "department": "Sales"}, {"id": 0, "department": "X"}],
        mode="strict",
    )

    assert (422, 0, [1]) == (
        response.status_code,
        response.json()["inserted"],
        [r["index"] for r in response.json()["rejected"]],
    )
    assert (0, 1) == (rows_in("departments"), rows_in("rejected_rows"))


def test_strict_mode_inserts_a_valid_batch(
    api: TestClient, ingest: dict[str, str], rows_in: RowsIn
) -> None:
    response = post(api, ingest, "departments", [{"id": 1, "department": "Sales"}], mode="strict")

    assert (200, 1) == (response.status_code, rows_in("departments"))


def test_csv_body_is_accepted_with_or_without_header(
    api: TestClient, ingest: dict[str, str], db: psycopg.Connection
) -> None:
    headers = {**ingest, "Content-Type": "text/csv"}

    first = api.post(
        "/v1/tables/departments/rows", content=b"id,department\r\n1,Sales\r\n", headers=headers
    )
    second = api.post("/v1/tables/departments/rows", content=b"2,HR\n3,\n", headers=headers)

    assert (1, 1) == (first.json()["inserted"], second.json()["inserted"])
    assert [{"index": 1, "line": 2, "codes": ["missing"]}] == [
        {"index": r["index"], "line": r["line"], "codes": [x["code"] for x in r["reasons"]]}
        for r in second.json()["rejected"]
    ]


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b'{"rows": []}', "application/json", 422),
        (b'{"rows": [' + b",".join([b'{"id": 1}'] * 1001) + b"]}", "application/json", 422),
        (b'{"rows": [', "application/json", 422),
        (b'{"rows": {"id": 1}}', "application/json", 422),
        (b'[{"id": 1}]', "application/json", 422),
        (b'{"rows": [{"id": 1, "department": "A"}], "more": 1}', "application/json", 422),
        (b"\xff\xfe", "application/json", 422),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", 422),
        (b"id,department\r\n", "text/csv", 422),
        (b"1,Sales", "text/plain", 415),
        (b"1,Sales", "", 415),
    ],
    ids=[
        "empty",
        "1001 rows",
        "broken json",
        "rows not a list",
        "not an object",
        "extra key",
        "not utf-8",
        "deep",
        "csv header only",
        "text/plain",
        "no type",
    ],
)
def test_bad_request_gets_a_clear_4xx_and_writes_nothing(
    api: TestClient,
    ingest: dict[str, str],
    rows_in: RowsIn,
    body: bytes,
    content_type: str,
    status: int,
) -> None:
    response = api.post(
        "/v1/tables/departments/rows",
        content=body,
        headers={**ingest, "Content-Type": content_type},
    )

    assert (status, True) == (response.status_code, bool(response.json()["error"]["message"]))
    assert (0, 0) == (rows_in("departments"), rows_in("rejected_rows"))


@pytest.mark.parametrize("rows", [0, MAX_BATCH_ROWS + 1])
def test_a_batch_of_a_wrong_size_says_its_size_and_the_limit(rows: int) -> None:
    with pytest.raises(BatchSizeError) as refused:
        json_rows(table("departments"), [{}] * rows)

    assert (rows, MAX_BATCH_ROWS) == (refused.value.rows, refused.value.limit)


def test_unknown_table_is_404(api: TestClient, ingest: dict[str, str]) -> None:
    response = post(api, ingest, "staff", [{"id": 1}])

    assert (404, "unknown_table") == (response.status_code, response.json()["error"]["type"])


def test_body_over_the_limit_is_413(
    api: TestClient, ingest: dict[str, str], db: psycopg.Connection
) -> None:
    big = b'{"rows": [{"id": 1, "department": "' + b"x" * (6 << 20) + b'"}]}'

    response = api.post(
        "/v1/tables/departments/rows",
        content=big,
        headers={**ingest, "Content-Type": "application/json"},
    )

    assert 413 == response.status_code


def test_retry_with_same_idempotency_key_returns_first_answer_and_inserts_nothing(
    api: TestClient, ingest: dict[str, str], rows_in: RowsIn
) -> None:
    headers = {**ingest, "Idempotency-Key": "batch-42"}
    first = post(api, headers, "departments", [{"id": 1, "department": "Sales"}])

    again = post(api, headers, "departments", [{"id": 1, "department": "Sales"}])

    assert first.json() == again.json()
    assert (1, 1) == (again.json()["inserted"], rows_in("departments"))


def test_same_idempotency_key_with_another_body_is_409(
    api: TestClient, ingest: dict[str, str]
) -> None:
    headers = {**ingest, "Idempotency-Key": "batch-42"}
    post(api, headers, "departments", [{"id": 1, "department": "Sales"}])

    response = post(api, headers, "departments", [{"id": 2, "department": "HR"}])

    assert (409, "idempotency_conflict") == (response.status_code, response.json()["error"]["type"])


def test_concurrent_requests_with_same_key_insert_once(
    api: TestClient, ingest: dict[str, str], rows_in: RowsIn, parents: None
) -> None:
    headers = {**ingest, "Idempotency-Key": "concurrent"}
    rows = [employee(i) for i in range(1, 1001)]
    answers: list[Any] = []

    def send() -> None:
        answers.append(post(api, headers, "hired_employees", rows).json())

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [1000] * 4 == [a["inserted"] for a in answers]
    assert 1 == len({a["request_id"] for a in answers})
    assert 1000 == rows_in("hired_employees")


def test_concurrent_batches_with_the_same_ids_insert_each_row_once(
    api: TestClient, ingest: dict[str, str], rows_in: RowsIn, parents: None
) -> None:
    rows = [employee(i) for i in range(1, 1001)]
    with ThreadPoolExecutor(4) as pool:
        answers = list(
            pool.map(lambda _: post(api, ingest, "hired_employees", rows).json(), range(4))
        )

    assert (1000, 3000, []) == (
        sum(a["inserted"] for a in answers),
        sum(a["skipped"] for a in answers),
        [r for a in answers for r in a["rejected"]],
    )
    assert 1000 == rows_in("hired_employees")


def test_concurrent_batches_with_clashing_ids_reject_the_later_values(
    api: TestClient, ingest: dict[str, str], db: psycopg.Connection, parents: None
) -> None:
    batches = [[employee(i, name=f"version {v}") for i in range(1, 501)] for v in range(4)]
    with ThreadPoolExecutor(4) as pool:
        answers = list(
            pool.map(lambda rows: post(api, ingest, "hired_employees", rows).json(), batches)
        )

    assert (500, 1500) == (
        sum(a["inserted"] for a in answers),
        sum(len(a["rejected"]) for a in answers),
    )
    assert {"conflict"} == {r["reasons"][0]["code"] for a in answers for r in a["rejected"]}


@pytest.mark.parametrize("name", ["a\u0085b", "\u009bcsi", "a\u2029b", "\u202eevil", "\x1fedge"])
def test_a_name_holding_a_control_character_is_rejected(
    api: TestClient, ingest: dict[str, str], rows_in: RowsIn, name: str
) -> None:
    response = post(api, ingest, "departments", [{"id": 710000, "department": name}])

    assert ["control_character"] == [r["code"] for r in response.json()["rejected"][0]["reasons"]]
    assert 0 == rows_in("departments")


def test_a_csv_body_with_its_header_in_another_order_is_read_by_name(
    api: TestClient, ingest: dict[str, str], db: psycopg.Connection
) -> None:
    response = api.post(
        "/v1/tables/departments/rows",
        content=b"department,id\r\nSales,5\r\n",
        headers={**ingest, "Content-Type": "text/csv"},
    )

    assert 1 == response.json()["inserted"], response.text
    assert [(5, "Sales")] == db.execute("SELECT id, department FROM departments").fetchall()


def test_a_csv_body_whose_header_lacks_a_column_is_a_422(
    api: TestClient, ingest: dict[str, str]
) -> None:
    response = api.post(
        "/v1/tables/departments/rows",
        content=b"department\r\nSales\r\n",
        headers={**ingest, "Content-Type": "text/csv"},
    )

    assert (422, "header_mismatch") == (response.status_code, response.json()["error"]["type"])


def test_rejected_rows_come_back_in_the_order_of_the_request(
    api: TestClient, ingest: dict[str, str], db: psycopg.Connection, parents: None
) -> None:
    db.execute("INSERT INTO hired_employees VALUES (1, 'Stored', '2021-03-01T10:00:00Z', 1, 10)")
    # Row 0 conflicts with a stored row (found while writing); row 2 fails its checks.
    rows = [employee(1), employee(2), employee(3, job_id=99), employee(4)]

    body = post(api, ingest, "hired_employees", rows).json()

    assert [0, 2] == [r["index"] for r in body["rejected"]]


@pytest.mark.parametrize("value", [-4, "-4", "-0", -(10**15)])
def test_a_negative_id_is_out_of_range_in_the_dictionarys_bounds(
    api: TestClient, ingest: dict[str, str], value: Any
) -> None:
    body = post(api, ingest, "departments", [{"id": value, "department": "Sales"}]).json()

    reason = body["rejected"][0]["reasons"][0]
    assert "out_of_range" == reason["code"]
    assert reason["message"].endswith("is out of range: ids are integers from 1 to 2147483647")


def test_a_department_named_like_another_id_is_rejected_as_name_taken(
    api: TestClient, ingest: dict[str, str], db: psycopg.Connection, rows_in: RowsIn
) -> None:
    db.execute("INSERT INTO departments VALUES (11, 'Legal')")

    body = post(api, ingest, "departments", [{"id": 13, "department": "legal"}]).json()

    reason = body["rejected"][0]["reasons"][0]
    assert ("name_taken", "department 'legal' is already the name of id 11") == (
        reason["code"],
        reason["message"],
    )
    assert 1 == rows_in("departments")


def test_concurrent_batches_naming_one_new_department_insert_it_once(
    api: TestClient, ingest: dict[str, str], rows_in: RowsIn
) -> None:
    def send(i: int) -> Any:
        return post(api, ingest, "departments", [{"id": 100 + i, "department": "Legal"}]).json()

    with ThreadPoolExecutor(8) as pool:
        bodies = list(pool.map(send, range(8)))

    assert (1, 7) == (sum(b["inserted"] for b in bodies), sum(len(b["rejected"]) for b in bodies))
    assert 1 == rows_in("departments")


def test_the_openapi_row_schema_admits_ids_as_integers_or_strings_of_digits(
    api: TestClient,
) -> None:
    body = api.get("/openapi.json").json()["paths"]["/v1/tables/{table}/rows"]["post"]
    rows = body["requestBody"]["content"]["application/json"]["schema"]["properties"]["rows"]
    schemas = {s["title"]: s for s in rows["items"]["oneOf"]}
    forms = schemas["hired_employees row"]["properties"]["department_id"]["anyOf"]

    assert ["integer", "string"] == [form["type"] for form in forms]
    assert re.fullmatch(forms[1]["pattern"], " 007 ")
