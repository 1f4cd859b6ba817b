"""Request bodies are strict JSON (RFC 8259): what is not JSON is a 422 naming where, and any
JSON value a row can carry is either stored as a reject or refused, never a 500."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hrdata.errors import BadRequestBody
from hrdata.ingest import jsonbody
from tests.support.fixture_types import AsRole, RowsIn

ROWS = "/v1/tables/departments/rows"


def send(api: TestClient, as_role: AsRole, body: bytes, **params: str) -> Any:
    headers = {**as_role("ingest"), "Content-Type": "application/json"}
    return api.post(ROWS, content=body, headers=headers, params=params)


def codes(response: Any) -> list[list[str]]:
    return [[r["code"] for r in row["reasons"]] for row in response.json()["rejected"]]


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity", "1e999999", "-1e400"])
@pytest.mark.parametrize("mode", ["lenient", "strict"])
@pytest.mark.parametrize("where", ["id", "department", "extra"])
def test_a_number_json_cannot_hold_is_a_422_naming_its_position(
    api: TestClient,
    as_role: AsRole,
    rows_in: RowsIn,
    token: str,
    mode: str,
    where: str,
) -> None:
    row = {"id": 1, "department": "Sales"} | {where: "@"}
    body = json.dumps({"rows": [row]}).replace('"@"', token).encode()

    response = send(api, as_role, body, mode=mode)

    assert 422 == response.status_code
    message = response.json()["error"]["message"]
    assert f"{token} at line 1 column {body.decode().index(token) + 1}" in message
    assert 0 == rows_in("departments")


@pytest.mark.parametrize(
    "body",
    [
        '{"rows": [{"id": 1, "department": "Sales"}]}'.encode("utf-16"),
        '{"rows": [{"id": 1, "department": "Sales"}]}'.encode("utf-32"),
        b'{"rows": [{"id": 1, "department": "\xe9"}]}',
    ],
    ids=["utf-16", "utf-32", "latin-1"],
)
def test_a_body_that_is_not_utf8_is_a_422_naming_the_offset(
    api: TestClient, as_role: AsRole, rows_in: RowsIn, body: bytes
) -> None:
    response = send(api, as_role, body)

    assert 422 == response.status_code
    assert "not UTF-8" in response.json()["error"]["message"]
    assert 0 == rows_in("departments")


def test_an_integer_of_thousands_of_digits_is_a_rejected_row_in_the_users_terms(
    api: TestClient, as_role: AsRole
) -> None:
    body = b'{"rows": [{"id": ' + b"7" * 5000 + b', "department": "Sales"}]}'

    response = send(api, as_role, body)

    reason = response.json()["rejected"][0]["reasons"][0]
    assert ("out_of_range", "id has 5000 digits: ids are integers from 1 to 2147483647") == (
        reason["code"],
        reason["message"],
    )


@pytest.mark.parametrize("depth", [40, 5000, 100_000])
@pytest.mark.parametrize("kind", ["arrays", "objects"])
def test_json_nested_too_deep_is_a_422_naming_the_limit(
    api: TestClient, as_role: AsRole, depth: int, kind: str
) -> None:
    value = "[" * depth + "]" * depth if kind == "arrays" else '{"a":' * depth + "1" + "}" * depth
    body = f'{{"rows": [{{"id": 1, "department": "x", "extra": {value}}}]}}'.encode()

    response = send(api, as_role, body)

    assert (422, f"the body's JSON is nested deeper than {jsonbody.MAX_DEPTH} levels") == (
        response.status_code,
        response.json()["error"]["message"],
    )


def test_a_key_given_twice_in_a_row_rejects_the_row_as_duplicate_field(
    api: TestClient, as_role: AsRole, rows_in: RowsIn
) -> None:
    body = b'{"rows": [{"id": 1, "department": "Sales", "department": "HR"}]}'

    response = send(api, as_role, body)

    assert [["duplicate_field"]] == codes(response)
    assert "department" == response.json()["rejected"][0]["reasons"][0]["column"]
    assert 0 == rows_in("departments")


def test_rows_given_twice_in_the_body_is_a_422(api: TestClient, as_role: AsRole) -> None:
    body = b'{"rows": [{"id": 1, "department": "A"}], "rows": [{"id": 2, "department": "B"}]}'

    response = send(api, as_role, body)

    assert 422 == response.status_code
    assert "given more than once: rows" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    "body", [b"[" * 100_000, b"\xff", b"\xef\xbb\xbf\xef\xbb\xbf[]", b"1e5000"]
)
def test_refusals_never_name_python_internals(body: bytes) -> None:
    with pytest.raises(BadRequestBody) as raised:
        jsonbody.loads(body)

    message = str(raised.value)
    assert not any(word in message for word in ("sys.", "recursion", "decode using")), message


JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([math.nan, math.inf, -math.inf, 10**30, -(10**25), 2**31, 0])
    | st.text(st.characters(codec=None, categories=None), max_size=20)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(st.characters(codec=None, categories=None), max_size=5), inner)
    ),
    max_leaves=10,
)


@pytest.mark.slow
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.dictionaries(st.sampled_from(["id", "department", "extra"]), JSON_VALUES) | JSON_VALUES,
        min_size=1,
        max_size=4,
    ),
    mode=st.sampled_from(["lenient", "strict"]),
)
def test_any_json_a_row_can_carry_is_answered_200_or_422_and_every_row_is_accounted_for(
    api: TestClient, as_role: AsRole, rows: list[Any], mode: str
) -> None:
    # json.dumps writes NaN and Infinity as Python does, exactly what a careless client sends.
    body = json.dumps({"rows": rows}).encode("utf-8", "surrogatepass")

    response = send(api, as_role, body, mode=mode)

    assert response.status_code in (200, 422), response.text
    if response.status_code == 200:
        answer = response.json()
        assert len(rows) == answer["inserted"] + answer["skipped"] + len(answer["rejected"])


@pytest.mark.parametrize(
    "body",
    [
        b'{"sources": ["data"], "table": "departments", "extra": NaN}',
        '{"sources": ["data"]}'.encode("utf-16"),
        b'{"sources": ["data"], "sources": ["other"]}',
    ],
    ids=["nan", "utf-16", "repeated-key"],
)
def test_every_json_route_decodes_its_body_as_strict_json(
    api: TestClient, as_role: AsRole, body: bytes
) -> None:
    headers = {**as_role("admin"), "Content-Type": "application/json"}

    response = api.post("/v1/migrations", content=body, headers=headers)

    assert (422, "bad_request_body") == (response.status_code, response.json()["error"]["type"])


@pytest.mark.parametrize("document", [b"null", b"1", b'"rows"', b"true", b"[]"])
def test_a_scalar_document_decodes_as_itself(document: bytes) -> None:
    assert json.loads(document) == jsonbody.loads(document)


KEYS = st.sampled_from(["id", "department", "rows", "x"])
TEXT = st.text(st.sampled_from('ab"\\{}[]:, \t\u00e9\ud800'), max_size=6)
SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT


def _render(rows: list[Any]) -> bytes:
    def value(v: Any) -> str:
        if isinstance(v, list):  # a row as (key, value, space before the colon): keys may repeat
            return "{" + ",".join(f"{json.dumps(k)}{s}:{json.dumps(x)}" for k, x, s in v) + "}"
        return json.dumps(v)

    return ('{"rows":[' + ",".join(map(value, rows)) + "]}").encode()


def _outcome(decode: Any, body: bytes) -> Any:
    try:
        document = decode(body)
    except BadRequestBody as refused:
        return ("refused", str(refused))
    rows = document["rows"] if isinstance(document, dict) else None
    marks = [getattr(r, "repeated", None) for r in rows] if isinstance(rows, list) else None
    return (document, marks)


VALUES = SCALARS | st.lists(SCALARS, max_size=2) | st.dictionaries(KEYS, SCALARS, max_size=2)
SPACES = st.sampled_from(["", "", " ", "\n\t"])


@given(
    rows=st.lists(
        st.lists(st.tuples(KEYS, VALUES, SPACES), max_size=4) | SCALARS, min_size=1, max_size=4
    )
)
def test_the_fast_decoding_of_plain_rows_agrees_with_the_exact_one(rows: list[Any]) -> None:
    body = _render(rows)

    exact = _outcome(lambda b: jsonbody._exact(b.decode("utf-8-sig"), False), body)
    assert exact == _outcome(jsonbody.loads, body)
