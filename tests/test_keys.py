"""API keys: tokens that authenticate, hashes that do not leak them, roles, and `hrdata keys`."""

from __future__ import annotations

import json
import re

import psycopg
import pytest
from psycopg.pq import TransactionStatus

from hrdata.auth import (
    ROLES,
    Caller,
    TokenCache,
    authenticate,
    create_key,
    list_keys,
    require,
    revoke_key,
)
from hrdata.errors import Forbidden, InvalidArgument, NotAuthenticated, http_status
from tests.support.fixture_types import Invoke

TOKEN = re.compile(r"hrd_([0-9a-f]{12})_[A-Za-z0-9_-]{43}")


def stored_row(conn: psycopg.Connection, key_id: str) -> tuple[object, ...]:
    row = conn.execute("SELECT * FROM api_keys WHERE key_id = %s", (key_id,)).fetchone()
    assert row is not None
    return tuple(row)


def with_secret(token: str, secret: str) -> str:
    key_id = token.split("_")[1]
    return f"hrd_{key_id}_{secret}"


def refusal(conn: psycopg.Connection, token: str | None) -> str:
    with pytest.raises(NotAuthenticated) as caught:
        authenticate(conn, token)
    return str(caught.value)


# Creating and authenticating


def test_token_names_the_key_it_belongs_to(db: psycopg.Connection) -> None:
    caller, token = create_key(db, "ingest", "nightly loader")

    match = TOKEN.fullmatch(token)
    assert match is not None and caller.key_id == match.group(1)


def test_authenticate_returns_the_caller_of_a_new_key(db: psycopg.Connection) -> None:
    created, token = create_key(db, "read", "dashboard")

    caller = authenticate(db, token)

    assert Caller(key_id=created.key_id, name="dashboard", role="read") == caller


def test_authenticate_twice_returns_the_same_caller(db: psycopg.Connection) -> None:
    _, token = create_key(db, "admin", "ops")

    callers = [authenticate(db, token), authenticate(db, token)]

    assert callers[0] == callers[1]


def test_create_key_refuses_an_unknown_role(db: psycopg.Connection) -> None:
    with pytest.raises(InvalidArgument) as caught:
        create_key(db, "superuser", "someone")

    assert "unknown role 'superuser' (roles: ingest, read, admin)" == str(caught.value)


def test_create_key_refuses_an_overlong_name(db: psycopg.Connection) -> None:
    with pytest.raises(InvalidArgument):
        create_key(db, "read", "x" * 201)


def test_create_key_trims_the_name(db: psycopg.Connection) -> None:
    caller, _ = create_key(db, "read", "  dashboard  ")

    assert ("dashboard", ["dashboard"]) == (caller.name, [row["name"] for row in list_keys(db)])


# Refusals


def test_missing_token_is_not_authenticated(db: psycopg.Connection) -> None:
    assert "missing API key" == refusal(db, None)


def test_empty_token_is_not_authenticated(db: psycopg.Connection) -> None:
    assert "missing API key" == refusal(db, "")


@pytest.mark.parametrize(
    "token",
    [
        "hrd_",
        "not-a-key",
        "Bearer hrd_0123456789ab_" + "a" * 43,
        "hrd_0123456789AB_" + "a" * 43,
        "hrd_0123456789ab_" + "a" * 43 + "\n",
        "hrd_0123456789ab_short",
        "hrd_0123456789ab_" + "a" * 1000,
        "hrd_0123456789ab_" + "a/" * 22,
    ],
    ids=["prefix", "word", "scheme", "uppercase id", "newline", "short", "long", "slash"],
)
def test_malformed_token_is_not_authenticated(db: psycopg.Connection, token: str) -> None:
    assert "malformed API key: expected hrd_<key id>_<secret>" == refusal(db, token)


def test_unknown_key_id_is_not_authenticated(db: psycopg.Connection) -> None:
    assert "invalid API key" == refusal(db, "hrd_0123456789ab_" + "a" * 43)


def test_wrong_secret_is_not_authenticated(db: psycopg.Connection) -> None:
    _, token = create_key(db, "read", "dashboard")

    assert "invalid API key" == refusal(db, with_secret(token, "b" * 43))


def test_wrong_secret_is_refused_after_the_right_one_was_cached(db: psycopg.Connection) -> None:
    _, token = create_key(db, "read", "dashboard")
    authenticate(db, token)

    assert "invalid API key" == refusal(db, with_secret(token, "b" * 43))


def test_revoked_key_is_refused_after_a_cached_authentication(db: psycopg.Connection) -> None:
    caller, token = create_key(db, "ingest", "loader")
    authenticate(db, token)
    revoke_key(db, caller.key_id)

    assert f"API key {caller.key_id} has been revoked" == refusal(db, token)


def test_key_revoked_by_another_connection_is_refused_on_the_next_call(
    db: psycopg.Connection, database_url: str
) -> None:
    caller, token = create_key(db, "ingest", "loader")
    authenticate(db, token)
    with psycopg.connect(database_url) as other:
        revoke_key(other, caller.key_id)

    assert f"API key {caller.key_id} has been revoked" == refusal(db, token)


def test_cached_token_is_refused_once_its_stored_hash_changed(db: psycopg.Connection) -> None:
    caller, token = create_key(db, "ingest", "loader")
    authenticate(db, token)
    create_key(db, "ingest", "other")
    db.execute(
        "UPDATE api_keys SET secret_hash = (SELECT secret_hash FROM api_keys WHERE name = 'other') "
        "WHERE key_id = %s",
        (caller.key_id,),
    )

    assert "invalid API key" == refusal(db, token)


def test_revocation_is_not_revealed_to_a_wrong_secret(db: psycopg.Connection) -> None:
    caller, token = create_key(db, "ingest", "loader")
    revoke_key(db, caller.key_id)

    assert "invalid API key" == refusal(db, with_secret(token, "b" * 43))


def test_refusals_never_contain_the_token_or_the_secret(db: psycopg.Connection) -> None:
    caller, token = create_key(db, "read", "dashboard")
    secret = token.split("_", 2)[2]
    wrong = with_secret(token, "b" * 43)
    malformed = token + "!"
    messages = [refusal(db, wrong), refusal(db, malformed)]
    revoke_key(db, caller.key_id)
    messages.append(refusal(db, token))

    assert [] == [
        m for m in messages if secret in m or "b" * 43 in m or "hrd_" + caller.key_id in m
    ]


def test_authenticate_leaves_a_connection_outside_any_transaction(
    db: psycopg.Connection, database_url: str
) -> None:
    _, token = create_key(db, "read", "dashboard")
    with psycopg.connect(database_url) as conn:
        authenticate(conn, token)

        assert TransactionStatus.IDLE == conn.info.transaction_status


def test_authenticate_works_on_a_connection_with_dict_rows(
    db: psycopg.Connection, database_url: str
) -> None:
    created, token = create_key(db, "read", "dashboard")
    with psycopg.connect(database_url, row_factory=psycopg.rows.dict_row) as conn:
        assert created == authenticate(conn, token)


# What is stored


def test_stored_hash_is_not_the_secret_and_does_not_contain_it(db: psycopg.Connection) -> None:
    caller, token = create_key(db, "read", "dashboard")
    secret = token.split("_", 2)[2]
    row = db.execute(
        "SELECT secret_hash FROM api_keys WHERE key_id = %s", (caller.key_id,)
    ).fetchone()
    assert row is not None

    assert (False, False) == (row[0] == secret, secret in row[0])


def test_token_appears_nowhere_in_the_api_keys_row(db: psycopg.Connection) -> None:
    caller, token = create_key(db, "read", "dashboard")
    secret = token.split("_", 2)[2]

    assert [] == [v for v in stored_row(db, caller.key_id) if token in str(v) or secret in str(v)]


def test_stored_hash_names_its_algorithm_and_parameters(db: psycopg.Connection) -> None:
    caller, _ = create_key(db, "read", "dashboard")
    row = db.execute(
        "SELECT secret_hash FROM api_keys WHERE key_id = %s", (caller.key_id,)
    ).fetchone()
    assert row is not None

    assert ["scrypt", "16384", "8", "1"] == row[0].split("$")[:4]


def test_damaged_hash_refuses_the_key(db: psycopg.Connection) -> None:
    caller, token = create_key(db, "read", "dashboard")
    db.execute("UPDATE api_keys SET secret_hash = 'md5$nope' WHERE key_id = %s", (caller.key_id,))

    assert "invalid API key" == refusal(db, token)


# Listing and revoking


def test_list_keys_shows_every_key_oldest_first_without_the_hash(db: psycopg.Connection) -> None:
    first, _ = create_key(db, "ingest", "loader")
    second, _ = create_key(db, "admin", "ops")

    rows = list_keys(db)

    assert [
        (first.key_id, "loader", "ingest", None),
        (second.key_id, "ops", "admin", None),
    ] == [(r["key_id"], r["name"], r["role"], r["revoked_at"]) for r in rows]
    assert [{"key_id", "name", "role", "created_at", "revoked_at"}] * 2 == [set(r) for r in rows]


def test_revoke_key_sets_revoked_at(db: psycopg.Connection) -> None:
    caller, _ = create_key(db, "ingest", "loader")

    revoked = revoke_key(db, caller.key_id)

    assert (True, True) == (revoked, list_keys(db)[0]["revoked_at"] is not None)


def test_revoke_key_of_an_unknown_key_returns_false(db: psycopg.Connection) -> None:
    assert False is revoke_key(db, "0123456789ab")


def test_revoke_key_twice_returns_false_the_second_time(db: psycopg.Connection) -> None:
    caller, _ = create_key(db, "ingest", "loader")

    results = [revoke_key(db, caller.key_id), revoke_key(db, caller.key_id)]

    assert [True, False] == results


# Roles


@pytest.mark.parametrize("role", ROLES)
def test_admin_allows_every_role(role: str) -> None:
    assert Caller("k", "ops", "admin").allows(role)


@pytest.mark.parametrize("role", ROLES)
def test_a_role_allows_itself(role: str) -> None:
    assert Caller("k", "someone", role).allows(role)


def test_ingest_does_not_allow_read_or_admin() -> None:
    caller = Caller("k", "loader", "ingest")

    assert [False, False] == [caller.allows("read"), caller.allows("admin")]


def test_read_does_not_allow_ingest_or_admin() -> None:
    caller = Caller("k", "dashboard", "read")

    assert [False, False] == [caller.allows("ingest"), caller.allows("admin")]


def test_require_refuses_naming_the_role_and_the_key() -> None:
    with pytest.raises(Forbidden) as caught:
        require(Caller("0123456789ab", "dashboard", "read"), "ingest")

    assert "this needs the ingest role; the key 0123456789ab has read" == str(caught.value)


def test_require_admits_an_allowed_caller() -> None:
    require(Caller("k", "ops", "admin"), "ingest")


def test_refusals_map_to_401_and_403() -> None:
    assert (401, 403) == (http_status(NotAuthenticated), http_status(Forbidden))


# The cache of verified tokens


def test_token_cache_drops_the_least_recently_used_token() -> None:
    cache = TokenCache(capacity=2)
    cache.remember("first", "hash1")
    cache.remember("second", "hash2")
    cache.matches("first", "hash1")
    cache.remember("third", "hash3")

    assert [True, False, True, 2] == [
        cache.matches("first", "hash1"),
        cache.matches("second", "hash2"),
        cache.matches("third", "hash3"),
        len(cache),
    ]


def test_token_cache_misses_when_the_stored_hash_changed() -> None:
    cache = TokenCache()
    cache.remember("token", "old hash")

    assert False is cache.matches("token", "new hash")


# The `hrdata keys` commands


def test_keys_create_prints_only_the_token_on_stdout(run: Invoke, db: psycopg.Connection) -> None:
    result = run("keys", "create", "--role", "ingest", "--name", "loader")

    token = result.stdout.removesuffix("\n")
    assert (0, True) == (result.exit_code, TOKEN.fullmatch(token) is not None)


def test_keys_create_token_authenticates_with_its_role(run: Invoke, db: psycopg.Connection) -> None:
    result = run("keys", "create", "--role", "ingest", "--name", "loader")

    caller = authenticate(db, result.stdout.strip())
    assert ("loader", "ingest") == (caller.name, caller.role)


def test_keys_create_says_on_stderr_the_token_is_shown_once(
    run: Invoke, db: psycopg.Connection
) -> None:
    result = run("keys", "create", "--role", "read")

    assert "will not be shown again" in result.stderr


def test_keys_create_json_prints_the_key_and_its_token(run: Invoke, db: psycopg.Connection) -> None:
    result = run("keys", "create", "--role", "admin", "--name", "ops", "--json")

    printed = json.loads(result.stdout)
    assert (["key_id", "name", "role", "token"], "ops", "admin") == (
        sorted(printed),
        printed["name"],
        printed["role"],
    )
    assert f"hrd_{printed['key_id']}_" == printed["token"][:17]


def test_keys_create_refuses_an_unknown_role(run: Invoke, db: psycopg.Connection) -> None:
    result = run("keys", "create", "--role", "root")

    assert (2, "Error: unknown role 'root' (roles: ingest, read, admin)\n", "") == (
        result.exit_code,
        result.stderr,
        result.stdout,
    )


def test_keys_list_shows_the_keys_and_never_a_token(run: Invoke, db: psycopg.Connection) -> None:
    caller, token = create_key(db, "ingest", "loader")

    result = run("keys", "list")

    assert (0, True, True, False) == (
        result.exit_code,
        caller.key_id in result.stdout,
        "loader" in result.stdout,
        token.split("_", 2)[2] in result.output,
    )


def test_keys_list_json_lists_every_key_and_never_a_token(
    run: Invoke, db: psycopg.Connection
) -> None:
    caller, token = create_key(db, "ingest", "loader")
    revoke_key(db, caller.key_id)

    result = run("keys", "list", "--json")

    [listed] = json.loads(result.stdout)
    assert (caller.key_id, "loader", "ingest", True) == (
        listed["key_id"],
        listed["name"],
        listed["role"],
        listed["revoked_at"] is not None,
    )
    assert ["created_at", "key_id", "name", "revoked_at", "role"] == sorted(listed)
    assert token.split("_", 2)[2] not in result.output


def test_keys_list_with_no_keys_says_so(run: Invoke, db: psycopg.Connection) -> None:
    result = run("keys", "list")

    assert (0, True) == (result.exit_code, result.stdout.startswith("no API keys yet;"))


def test_keys_revoke_refuses_the_key_from_then_on(run: Invoke, db: psycopg.Connection) -> None:
    caller, token = create_key(db, "ingest", "loader")
    authenticate(db, token)

    result = run("keys", "revoke", caller.key_id)

    assert (0, f"API key {caller.key_id} revoked\n") == (result.exit_code, result.stdout)
    assert f"API key {caller.key_id} has been revoked" == refusal(db, token)


def test_keys_revoke_of_an_unknown_key_is_one_line_error(
    run: Invoke, db: psycopg.Connection
) -> None:
    result = run("keys", "revoke", "0123456789ab")

    assert (2, "Error: no active API key '0123456789ab' (see `hrdata keys list`)\n") == (
        result.exit_code,
        result.stderr,
    )


def test_keys_revoke_twice_fails_the_second_time(run: Invoke, db: psycopg.Connection) -> None:
    caller, _ = create_key(db, "ingest", "loader")

    results = [run("keys", "revoke", caller.key_id), run("keys", "revoke", caller.key_id)]

    assert [0, 2] == [r.exit_code for r in results]


def test_keys_commands_create_the_schema_first(run: Invoke, db: psycopg.Connection) -> None:
    db.execute("DROP TABLE report_sessions, api_keys")  # sessions refer to keys

    result = run("keys", "list", "--json")

    assert (0, []) == (result.exit_code, json.loads(result.stdout))
