"""Signing in to the report pages opens a server-side session: the cookie holds a random token,
only its hash is stored, it expires, and it ends with sign-out or its key's revocation."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from hrdata.api.app import create_app
from hrdata.auth import create_key, revoke_key
from hrdata.settings import Settings
from tests.support.fixture_types import RowsIn

SAME_SITE = {"Sec-Fetch-Site": "same-origin", "Origin": "http://testserver"}


def sign_in(api: TestClient, key: str, **headers: str) -> Any:
    return api.post(
        "/reports/login",
        data={"key": key},
        headers={**SAME_SITE, **headers},
        follow_redirects=False,
    )


@pytest.fixture
def reader(db: psycopg.Connection) -> tuple[str, str]:
    caller, key = create_key(db, "read", "browser")
    return caller.key_id, key


def test_the_cookie_holds_a_token_never_the_key_and_only_its_hash_is_stored(
    api: TestClient, db: psycopg.Connection, reader: tuple[str, str]
) -> None:
    response = sign_in(api, reader[1])

    token = response.cookies["hrdata_session"]
    stored = db.execute("SELECT token_sha256, key_id FROM report_sessions").fetchall()
    assert 303 == response.status_code
    assert reader[1] not in response.headers["set-cookie"]
    assert [(hashlib.sha256(token.encode()).digest(), reader[0])] == [
        (bytes(h), k) for h, k in stored
    ]


def test_a_session_opens_the_report_without_the_key(
    api: TestClient, reader: tuple[str, str]
) -> None:
    sign_in(api, reader[1])

    page = api.get("/reports?year=2021")

    assert (200, True) == (page.status_code, 'id="logout"' in page.text)


def test_a_forged_token_gets_the_login_form(api: TestClient, reader: tuple[str, str]) -> None:
    api.cookies.set("hrdata_session", "not-a-token", path="/reports")

    page = api.get("/reports")

    assert (401, True) == (page.status_code, 'id="login"' in page.text)


def test_signing_out_ends_the_session_on_the_server(
    api: TestClient, rows_in: RowsIn, reader: tuple[str, str]
) -> None:
    token = sign_in(api, reader[1]).cookies["hrdata_session"]

    api.post("/reports/logout", headers=SAME_SITE, follow_redirects=False)
    api.cookies.set("hrdata_session", token, path="/reports")  # a copy kept somewhere

    assert (401, 0) == (api.get("/reports").status_code, rows_in("report_sessions"))


def test_revoking_the_key_ends_its_sessions(
    api: TestClient, db: psycopg.Connection, reader: tuple[str, str]
) -> None:
    sign_in(api, reader[1])

    revoke_key(db, reader[0])

    assert 401 == api.get("/reports").status_code


def test_a_session_ends_after_the_configured_hours(
    settings: Settings, db: psycopg.Connection, reader: tuple[str, str]
) -> None:
    with TestClient(create_app(settings.model_copy(update={"report_session_hours": 1}))) as api:
        response = sign_in(api, reader[1])
        expires = db.execute("SELECT expires_at - created_at FROM report_sessions").fetchone()
        db.execute("UPDATE report_sessions SET expires_at = now() - interval '1 second'")

        assert (timedelta(hours=1), "Max-Age=3600") == (
            expires[0] if expires else None,
            next(p.strip() for p in response.headers["set-cookie"].split(";") if "Max-Age" in p),
        )
        assert 401 == api.get("/reports").status_code


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
    ],
    ids=["cross-site", "same-site", "foreign-origin", "null-origin"],
)
def test_a_sign_in_posted_from_another_site_is_refused(
    api: TestClient, rows_in: RowsIn, reader: tuple[str, str], headers: dict[str, str]
) -> None:
    response = api.post("/reports/login", data={"key": reader[1]}, headers=headers)

    assert (403, 0) == (response.status_code, rows_in("report_sessions"))
    assert "hrdata_session" not in response.cookies


def test_a_script_without_browser_headers_may_sign_in(
    api: TestClient, reader: tuple[str, str]
) -> None:
    response = api.post("/reports/login", data={"key": reader[1]}, follow_redirects=False)

    assert 303 == response.status_code


def test_the_form_is_parsed_by_the_framework_with_its_field_checked(
    api: TestClient, reader: tuple[str, str]
) -> None:
    multipart = api.post("/reports/login", files={"key": (None, reader[1])}, follow_redirects=False)
    overlong = api.post("/reports/login", data={"key": "k" * 513})

    assert ("/reports", 422) == (multipart.headers["location"], overlong.status_code)
