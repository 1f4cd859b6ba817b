"""Key checks that tell a guesser nothing and cannot be flooded: scrypt runs for unknown key
ids too, at most N at once, successes are cached briefly (dropped on revocation), and an
address that keeps failing gets 429 with Retry-After. Behaviour is counted, never timed."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient

from hrdata.api.app import create_app
from hrdata.auth import Authenticator, FailureThrottle, create_key, revoke_key
from hrdata.errors import NotAuthenticated, TooManyFailures, http_status
from hrdata.settings import Settings
from tests.support.fixture_types import AsRole

UNKNOWN = "hrd_000000000000_" + "a" * 43


class Clock:
    """Time that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def refused(authenticator: Authenticator, db: psycopg.Connection, token: str) -> str:
    with pytest.raises(NotAuthenticated) as caught:
        authenticator.authenticate(db, token)
    return str(caught.value)


def wrong_secret(token: str) -> str:
    return token[: -len("b" * 43)] + "b" * 43


# scrypt for every key id


def test_an_unknown_key_id_runs_scrypt_like_a_wrong_secret(db: psycopg.Connection) -> None:
    authenticator = Authenticator()
    _, token = create_key(db, "read", "dashboard")

    runs = []
    for guess in (UNKNOWN, wrong_secret(token)):
        refused(authenticator, db, guess)
        runs.append(authenticator.scrypt_runs)

    assert [1, 2] == runs


def test_an_unknown_key_id_and_a_wrong_secret_get_the_same_refusal(
    db: psycopg.Connection,
) -> None:
    authenticator = Authenticator()
    _, token = create_key(db, "read", "dashboard")

    assert refused(authenticator, db, UNKNOWN) == refused(authenticator, db, wrong_secret(token))


def test_a_malformed_token_runs_no_scrypt(db: psycopg.Connection) -> None:
    authenticator = Authenticator()
    refused(authenticator, db, "hrd_nothex_x")

    assert 0 == authenticator.scrypt_runs


def test_scrypt_runs_at_most_the_configured_number_at_once(
    db: psycopg.Connection, database_url: str
) -> None:
    authenticator = Authenticator(concurrency=2)
    _, token = create_key(db, "read", "dashboard")
    guesses = [wrong_secret(token)] * 8

    def guess(candidate: str) -> None:
        with psycopg.connect(database_url) as conn:
            refused(authenticator, conn, candidate)

    threads = [threading.Thread(target=guess, args=(g,)) for g in guesses]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert (8, True) == (authenticator.scrypt_runs, 1 <= authenticator.scrypt_peak <= 2)


def test_scrypt_concurrency_defaults_to_the_cpu_count() -> None:
    assert (os.cpu_count() or 1) == Authenticator().concurrency


# The cache of verified tokens


def test_a_verified_token_is_served_from_the_cache_without_scrypt(
    db: psycopg.Connection,
) -> None:
    authenticator = Authenticator()
    _, token = create_key(db, "read", "dashboard")

    first, second = authenticator.authenticate(db, token), authenticator.authenticate(db, token)

    assert (first, 1) == (second, authenticator.scrypt_runs)


def test_a_cached_verification_expires_after_its_seconds(db: psycopg.Connection) -> None:
    clock = Clock()
    authenticator = Authenticator(cache_seconds=30, clock=clock)
    _, token = create_key(db, "read", "dashboard")
    authenticator.authenticate(db, token)
    clock.now += 31

    authenticator.authenticate(db, token)

    assert 2 == authenticator.scrypt_runs


def test_no_cache_when_its_seconds_are_zero(db: psycopg.Connection) -> None:
    authenticator = Authenticator(cache_seconds=0)
    _, token = create_key(db, "read", "dashboard")
    authenticator.authenticate(db, token)

    authenticator.authenticate(db, token)

    assert (2, 0) == (authenticator.scrypt_runs, len(authenticator.cache))


def test_a_revoked_keys_cache_entry_is_dropped(db: psycopg.Connection, database_url: str) -> None:
    """Revoked by another process (here another connection): seen on the row, read each time."""
    authenticator = Authenticator()
    caller, token = create_key(db, "read", "dashboard")
    authenticator.authenticate(db, token)
    cached_before = len(authenticator.cache)
    with psycopg.connect(database_url) as other:
        revoke_key(other, caller.key_id)

    message = refused(authenticator, db, token)

    assert (1, 0) == (cached_before, len(authenticator.cache))
    assert f"API key {caller.key_id} has been revoked" == message


# Throttling an address that keeps failing


def test_an_address_is_throttled_after_the_limit_of_failures_in_its_window() -> None:
    throttle = FailureThrottle(limit=3, window_seconds=60, clock=Clock())
    for _ in range(3):
        throttle.check("203.0.113.9")
        throttle.failed("203.0.113.9")

    with pytest.raises(TooManyFailures) as caught:
        throttle.check("203.0.113.9")

    assert (429, 60) == (http_status(caught.value), caught.value.retry_after)


def test_the_throttle_lifts_once_the_oldest_failure_leaves_the_window() -> None:
    clock = Clock()
    throttle = FailureThrottle(limit=3, window_seconds=60, clock=clock)
    for step in range(3):
        clock.now += step
        throttle.failed("203.0.113.9")
    with pytest.raises(TooManyFailures) as caught:
        throttle.check("203.0.113.9")
    clock.now += caught.value.retry_after

    throttle.check("203.0.113.9")


def test_failures_from_one_address_do_not_throttle_another() -> None:
    throttle = FailureThrottle(limit=1, window_seconds=60, clock=Clock())
    throttle.failed("203.0.113.9")

    throttle.check("198.51.100.7")


@pytest.fixture
def strict(settings: Settings, db: psycopg.Connection) -> Iterator[TestClient]:
    """The API with a limit of 3 failures a minute per address."""
    limited = settings.model_copy(
        update={"auth_failure_limit": 3, "auth_failure_window_seconds": 60}
    )
    with TestClient(create_app(limited)) as client:
        yield client


def test_the_api_answers_429_with_retry_after_once_an_address_failed_too_often(
    strict: TestClient, tokens: dict[str, str]
) -> None:
    bad = {"Authorization": f"Bearer {wrong_secret(tokens['read'].removeprefix('Bearer '))}"}
    statuses = [strict.get("/v1/me", headers=bad).status_code for _ in range(3)]

    throttled = strict.get("/v1/me", headers=bad)

    assert ([401] * 3, 429, "too_many_failures") == (
        statuses,
        throttled.status_code,
        throttled.json()["error"]["type"],
    )
    assert 1 <= int(throttled.headers["Retry-After"]) <= 60


def test_a_throttled_address_is_refused_even_with_a_right_key_and_runs_no_scrypt(
    strict: TestClient, as_role: AsRole
) -> None:
    for _ in range(3):
        strict.get("/v1/me", headers={"Authorization": f"Bearer {UNKNOWN}"})
    authenticator: Authenticator = strict.app.state.authenticator  # type: ignore[attr-defined]
    runs = authenticator.scrypt_runs

    response = strict.get("/v1/me", headers=as_role("read"))

    assert (429, runs) == (response.status_code, authenticator.scrypt_runs)


def test_requests_without_a_key_are_not_counted_as_failures(
    strict: TestClient, as_role: AsRole
) -> None:
    for _ in range(5):
        strict.get("/v1/me")

    assert 200 == strict.get("/v1/me", headers=as_role("read")).status_code


def test_the_report_sign_in_is_throttled_too(strict: TestClient) -> None:
    statuses = [strict.post("/reports/login", data={"key": UNKNOWN}).status_code for _ in range(4)]

    assert [401, 401, 401, 429] == statuses
