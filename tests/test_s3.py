"""S3 sources and S3 reject logs against a real S3-protocol server (moto in server mode).

Every test goes through `hrdata.s3.s3_client(settings)`, the code path users run, with the
endpoint from `Settings.s3_endpoint_url`; credentials are fake and come from the environment.
Each test has buckets of its own, so tests do not depend on each other.
"""

from __future__ import annotations

import gzip
import json
import os
import secrets
import socket
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import psycopg
import pytest
from click.testing import CliRunner
from moto.server import ThreadedMotoServer

from hrdata.backup.restore import restore
from hrdata.backup.sets import list_backups, prune_backups, take_backup, verify_backup
from hrdata.cli import cli
from hrdata.errors import BackupCorrupt, SourceError
from hrdata.ingest.migrate import migrate
from hrdata.s3 import s3_client
from hrdata.settings import Settings
from tests.support.fixture_types import RowsIn
from tests.support.paths import CHALLENGE

DATA_TABLES = ("departments", "jobs", "hired_employees")
CHALLENGE_FILES = ("departments.csv", "jobs.csv", "hired_employees.csv")
# (table, inserted, rejected) of the challenge export, as the local run loads it.
CHALLENGE_COUNTS = [("departments", 12, 0), ("jobs", 183, 0), ("hired_employees", 1930, 69)]

# Obviously fake credentials: moto accepts anything while IAM authentication is off.
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "hrdata-test",
    "AWS_SECRET_ACCESS_KEY": "hrdata-test",
    "AWS_DEFAULT_REGION": "us-east-1",
}
# Anything of the developer's own AWS setup that could leak into the tests.
AWS_VARIABLES = (
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
)


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a moto S3 server on 127.0.0.1 for this module, with fake credentials set."""
    nowhere = tmp_path_factory.mktemp("aws") / "absent"
    with pytest.MonkeyPatch.context() as env:
        for name in AWS_VARIABLES:
            env.delenv(name, raising=False)
        for name, value in FAKE_CREDENTIALS.items():
            env.setenv(name, value)
        env.setenv("AWS_CONFIG_FILE", str(nowhere))
        env.setenv("AWS_SHARED_CREDENTIALS_FILE", str(nowhere))
        env.setenv("AWS_EC2_METADATA_DISABLED", "true")
        # boto3 caches credentials in its default session: start from a fresh one, and put
        # back whatever was there before once the module is done.
        env.setattr(boto3, "DEFAULT_SESSION", None)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        try:
            yield endpoint
        finally:
            moto_api(endpoint, "reset")  # moto's stores are process-wide: leave them empty
            server.stop()


@pytest.fixture
def s3_settings(settings: Settings, s3_endpoint: str) -> Settings:
    return settings.model_copy(update={"s3_endpoint_url": s3_endpoint})


@pytest.fixture
def store(s3_settings: Settings) -> Any:
    """An S3 client on the moto server, to arrange buckets and objects and read them back."""
    return s3_client(s3_settings)


@pytest.fixture
def bucket(store: Any) -> str:
    """A new, empty bucket of this test's own."""
    return new_bucket(store)


def new_bucket(store: Any) -> str:
    name = f"hrdata-test-{secrets.token_hex(6)}"
    store.create_bucket(Bucket=name)
    return name


def moto_api(endpoint: str, action: str, body: bytes = b"") -> dict[str, Any]:
    # Not form-encoded (urllib's default): moto reads the raw body.
    request = urllib.request.Request(
        f"{endpoint}/moto-api/{action}",
        data=body,
        method="POST",
        headers={"Content-Type": "text/plain"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        result: dict[str, Any] = json.loads(response.read())
    return result


@contextmanager
def iam_authentication(endpoint: str) -> Iterator[None]:
    """The moto server checks every request's credentials against its (empty) IAM."""
    previous = moto_api(endpoint, "reset-auth", b"0")["PREVIOUS_INITIAL_NO_AUTH_ACTION_COUNT"]
    try:
        yield
    finally:
        moto_api(endpoint, "reset-auth", str(previous).encode())


def upload_challenge(store: Any, bucket: str, prefix: str) -> None:
    for name in CHALLENGE_FILES:
        store.put_object(Bucket=bucket, Key=f"{prefix}{name}", Body=(CHALLENGE / name).read_bytes())


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def loaded(rows_in: RowsIn) -> dict[str, int]:
    return {table: rows_in(table) for table in (*DATA_TABLES, "load_runs")}


NOTHING_LOADED = dict.fromkeys((*DATA_TABLES, "load_runs"), 0)


def test_prefix_with_the_challenge_export_loads_like_the_local_run_in_dependency_order(
    s3_settings: Settings, db: psycopg.Connection, store: Any, bucket: str
) -> None:
    upload_challenge(store, bucket, "export/")

    summary = migrate(s3_settings, [f"s3://{bucket}/export/"])

    assert CHALLENGE_COUNTS == [(f.table, f.inserted, f.rejected) for f in summary.files]
    assert [
        f"s3://{bucket}/export/departments.csv",
        f"s3://{bucket}/export/jobs.csv",
        f"s3://{bucket}/export/hired_employees.csv",
    ] == [f.source for f in summary.files]


def test_prefix_rows_are_in_the_database(
    s3_settings: Settings, rows_in: RowsIn, store: Any, bucket: str
) -> None:
    upload_challenge(store, bucket, "export/")

    migrate(s3_settings, [f"s3://{bucket}/export/"])

    assert {"departments": 12, "jobs": 183, "hired_employees": 1930, "rejected_rows": 69} == {
        table: rows_in(table) for table in (*DATA_TABLES, "rejected_rows")
    }


def test_prefix_without_trailing_slash_loads_the_same_objects(
    s3_settings: Settings, db: psycopg.Connection, store: Any, bucket: str
) -> None:
    upload_challenge(store, bucket, "export/")
    store.put_object(Bucket=bucket, Key="export-old/jobs.csv", Body=b"1,Old\n")

    summary = migrate(s3_settings, [f"s3://{bucket}/export"])

    assert CHALLENGE_COUNTS == [(f.table, f.inserted, f.rejected) for f in summary.files]


def test_single_object_uri_loads_only_that_object(
    s3_settings: Settings, rows_in: RowsIn, store: Any, bucket: str
) -> None:
    upload_challenge(store, bucket, "export/")
    store.put_object(Bucket=bucket, Key="export/jobs.csv.gz", Body=gzip.compress(b"1,Other\n"))

    summary = migrate(s3_settings, [f"s3://{bucket}/export/jobs.csv"])

    assert [("jobs", f"s3://{bucket}/export/jobs.csv", 183)] == [
        (f.table, f.source, f.inserted) for f in summary.files
    ]
    assert {"departments": 0, "jobs": 183, "hired_employees": 0} == {
        table: rows_in(table) for table in DATA_TABLES
    }


def test_gzip_object_is_decompressed(
    s3_settings: Settings, rows_in: RowsIn, store: Any, bucket: str
) -> None:
    body = gzip.compress((CHALLENGE / "jobs.csv").read_bytes())
    store.put_object(Bucket=bucket, Key="export/jobs.csv.gz", Body=body)

    summary = migrate(s3_settings, [f"s3://{bucket}/export/jobs.csv.gz"])

    assert [("jobs", 183, 0)] == [(f.table, f.inserted, f.rejected) for f in summary.files]
    assert 183 == rows_in("jobs")


def test_gzip_objects_under_a_prefix_are_decompressed(
    s3_settings: Settings, db: psycopg.Connection, store: Any, bucket: str
) -> None:
    for name in CHALLENGE_FILES:
        body = gzip.compress((CHALLENGE / name).read_bytes())
        store.put_object(Bucket=bucket, Key=f"export/{name}.gz", Body=body)

    summary = migrate(s3_settings, [f"s3://{bucket}/export/"])

    assert CHALLENGE_COUNTS == [(f.table, f.inserted, f.rejected) for f in summary.files]


def test_table_option_names_the_table_of_an_object_with_an_unrelated_name(
    s3_settings: Settings, db: psycopg.Connection, store: Any, bucket: str
) -> None:
    store.put_object(Bucket=bucket, Key="export/export-2021.csv", Body=b"1,Sales\n2,HR\n")

    summary = migrate(s3_settings, [f"s3://{bucket}/export/export-2021.csv"], table="departments")

    assert [("departments", 2)] == [(f.table, f.inserted) for f in summary.files]
    assert [(1, "Sales"), (2, "HR")] == db.execute(
        "SELECT id, department FROM departments ORDER BY id"
    ).fetchall()


def test_table_option_with_a_prefix_is_refused(
    s3_settings: Settings, db: psycopg.Connection, store: Any, bucket: str
) -> None:
    store.put_object(Bucket=bucket, Key="export/export-2021.csv", Body=b"1,Sales\n")

    with pytest.raises(SourceError, match="applies to a single object, not a prefix"):
        migrate(s3_settings, [f"s3://{bucket}/export/"], table="departments")


def test_object_with_an_unrelated_name_is_refused_without_the_table_option(
    s3_settings: Settings, db: psycopg.Connection, store: Any, bucket: str
) -> None:
    store.put_object(Bucket=bucket, Key="export/export-2021.csv", Body=b"1,Sales\n")
    uri = f"s3://{bucket}/export/export-2021.csv"

    with pytest.raises(SourceError, match="cannot tell which table") as raised:
        migrate(s3_settings, [uri])

    assert uri == raised.value.source


def test_objects_not_named_after_a_table_are_ignored(
    s3_settings: Settings, rows_in: RowsIn, store: Any, bucket: str
) -> None:
    store.put_object(Bucket=bucket, Key="export/departments.csv", Body=b"1,Sales\n")
    store.put_object(Bucket=bucket, Key="export/README.txt", Body=b"an export\n")
    store.put_object(Bucket=bucket, Key="export/staff.csv", Body=b"1,Ada\n")
    store.put_object(Bucket=bucket, Key="export/departments.csv.bak", Body=b"not,a,csv\n")

    summary = migrate(s3_settings, [f"s3://{bucket}/export/"])

    assert [f"s3://{bucket}/export/departments.csv"] == [f.source for f in summary.files]
    assert 1 == rows_in("departments")


def test_objects_in_sub_prefixes_are_ignored_like_files_in_subfolders(
    s3_settings: Settings, db: psycopg.Connection, store: Any, bucket: str
) -> None:
    store.put_object(Bucket=bucket, Key="export/departments.csv", Body=b"1,Sales\n")
    store.put_object(Bucket=bucket, Key="export/archive/departments.csv", Body=b"1,Old\n2,HR\n")
    store.put_object(Bucket=bucket, Key="export/archive/jobs.csv", Body=b"10,Clerk\n")

    summary = migrate(s3_settings, [f"s3://{bucket}/export/"])

    assert [f"s3://{bucket}/export/departments.csv"] == [f.source for f in summary.files]
    assert [(1, "Sales")] == db.execute("SELECT id, department FROM departments").fetchall()


def test_prefix_with_only_unrelated_objects_is_refused_naming_it(
    s3_settings: Settings, rows_in: RowsIn, store: Any, bucket: str
) -> None:
    store.put_object(Bucket=bucket, Key="export/staff.csv", Body=b"1,Ada\n")
    uri = f"s3://{bucket}/export/"

    with pytest.raises(SourceError, match="no object under this prefix is named after a table"):
        migrate(s3_settings, [uri])

    assert NOTHING_LOADED == loaded(rows_in)


def test_prefix_with_no_object_is_refused_naming_it(
    s3_settings: Settings, rows_in: RowsIn, store: Any, bucket: str
) -> None:
    store.put_object(Bucket=bucket, Key="other/departments.csv", Body=b"1,Sales\n")
    uri = f"s3://{bucket}/export/"

    with pytest.raises(SourceError, match="no such object or prefix") as raised:
        migrate(s3_settings, [uri])

    assert (uri, NOTHING_LOADED) == (raised.value.source, loaded(rows_in))


def test_empty_object_is_refused_naming_it(
    s3_settings: Settings, db: psycopg.Connection, store: Any, bucket: str
) -> None:
    store.put_object(Bucket=bucket, Key="export/jobs.csv", Body=b"")

    with pytest.raises(SourceError, match="object is empty") as raised:
        migrate(s3_settings, [f"s3://{bucket}/export/"])

    assert f"s3://{bucket}/export/jobs.csv" == raised.value.source


def test_missing_bucket_is_refused_naming_it_and_nothing_loads(
    s3_settings: Settings, rows_in: RowsIn
) -> None:
    uri = f"s3://hrdata-test-absent-{secrets.token_hex(6)}/export/"

    with pytest.raises(SourceError) as raised:
        migrate(s3_settings, [str(CHALLENGE), uri])

    assert (f"{uri}: the bucket does not exist", NOTHING_LOADED) == (
        str(raised.value),
        loaded(rows_in),
    )


def test_credentials_the_store_does_not_know_are_denied_access_and_nothing_loads(
    s3_settings: Settings, rows_in: RowsIn, store: Any, bucket: str, s3_endpoint: str
) -> None:
    upload_challenge(store, bucket, "export/")
    uri = f"s3://{bucket}/export/"

    with iam_authentication(s3_endpoint), pytest.raises(SourceError) as raised:
        migrate(s3_settings, [uri])

    assert (f"{uri}: access denied: the access key is not known to the store", NOTHING_LOADED) == (
        str(raised.value),
        loaded(rows_in),
    )


def test_unreachable_endpoint_is_a_source_error_naming_the_uri(
    settings: Settings, rows_in: RowsIn, s3_endpoint: str
) -> None:
    unreachable = settings.model_copy(
        update={"s3_endpoint_url": f"http://127.0.0.1:{closed_port()}"}
    )
    uri = "s3://hrdata-test-anywhere/export/"

    with pytest.raises(SourceError, match="S3 cannot be reached") as raised:
        migrate(unreachable, [uri])

    assert (uri, NOTHING_LOADED) == (raised.value.source, loaded(rows_in))


def test_unreachable_endpoint_fails_within_seconds(
    settings: Settings, db: psycopg.Connection, s3_endpoint: str
) -> None:
    unreachable = settings.model_copy(
        update={"s3_endpoint_url": f"http://127.0.0.1:{closed_port()}"}
    )
    started = time.monotonic()

    with pytest.raises(SourceError):
        migrate(unreachable, ["s3://hrdata-test-anywhere/export/"])

    assert time.monotonic() - started < 5


def test_rejects_are_published_as_json_lines_in_the_log_bucket(
    s3_settings: Settings, db: psycopg.Connection, store: Any, bucket: str
) -> None:
    upload_challenge(store, bucket, "export/")
    logs = new_bucket(store)

    summary = migrate(
        s3_settings.model_copy(update={"log_uri": f"s3://{logs}/logs"}),
        [f"s3://{bucket}/export/"],
    )

    listed = store.list_objects_v2(Bucket=logs, Prefix=f"logs/rejects/{summary.run_id}/")
    keys = [item["Key"] for item in listed.get("Contents", [])]
    records = [
        json.loads(line)
        for key in keys
        for line in store.get_object(Bucket=logs, Key=key)["Body"].read().decode().splitlines()
    ]
    assert (
        69,
        {summary.run_id},
        {"hired_employees"},
        {f"s3://{bucket}/export/hired_employees.csv"},
    ) == (
        len(records),
        {r["run_id"] for r in records},
        {r["table"] for r in records},
        {r["source"] for r in records},
    )


def test_s3_reject_log_location_is_recorded_with_the_file(
    s3_settings: Settings, db: psycopg.Connection, store: Any, bucket: str
) -> None:
    upload_challenge(store, bucket, "export/")
    logs = new_bucket(store)

    summary = migrate(
        s3_settings.model_copy(update={"log_uri": f"s3://{logs}/logs/"}),
        [f"s3://{bucket}/export/"],
    )

    recorded = db.execute(
        "SELECT table_name, rejects_log FROM load_run_files WHERE rejects_log IS NOT NULL"
    ).fetchall()
    listed = store.list_objects_v2(Bucket=logs)
    assert (
        [
            (
                "hired_employees",
                f"s3://{logs}/logs/rejects/{summary.run_id}/03-hired_employees.jsonl",
            )
        ],
        [f"logs/rejects/{summary.run_id}/03-hired_employees.jsonl"],
    ) == (recorded, [item["Key"] for item in listed.get("Contents", [])])


def test_cli_migrates_an_s3_prefix_and_prints_the_json_summary(
    db: psycopg.Connection,
    database_url: str,
    store: Any,
    bucket: str,
    s3_endpoint: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    upload_challenge(store, bucket, "export/")
    monkeypatch.chdir(tmp_path)  # no .env file is read
    for name in [n for n in os.environ if n.startswith("HRDATA_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("HRDATA_DATABASE_URL", database_url)
    monkeypatch.setenv("HRDATA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HRDATA_S3_ENDPOINT_URL", s3_endpoint)

    result = CliRunner().invoke(cli, ["migrate", f"s3://{bucket}/export/", "--json"])

    assert 0 == result.exit_code, result.output
    report = json.loads(result.stdout)
    assert ("succeeded", CHALLENGE_COUNTS) == (
        report["status"],
        [(name, t["inserted"], t["rejected"]) for name, t in report["tables"].items()],
    )
    assert [f"s3://{bucket}/export/hired_employees.csv"] == [
        f["source"] for f in report["tables"]["hired_employees"]["files"]
    ]


# Backups in S3: the same S3Storage code users run, on the moto server.


@pytest.fixture
def migrated(settings: Settings, db: psycopg.Connection) -> None:
    migrate(settings, [str(CHALLENGE)])


def test_backup_to_s3_round_trips_a_table(
    s3_settings: Settings, store: Any, db: psycopg.Connection, migrated: None
) -> None:
    backups = new_bucket(store)
    located = s3_settings.model_copy(update={"backup_uri": f"s3://{backups}/sets"})
    before = db.execute("SELECT * FROM hired_employees ORDER BY id").fetchall()
    manifest = take_backup(located)
    db.execute("DELETE FROM hired_employees WHERE id % 2 = 0")

    restore(located, ["hired_employees"])

    assert before == db.execute("SELECT * FROM hired_employees ORDER BY id").fetchall()
    keys = sorted(o["Key"] for o in store.list_objects_v2(Bucket=backups)["Contents"])
    files = ("departments.avro", "hired_employees.avro", "jobs.avro", "manifest.json")
    assert [f"sets/{manifest.backup_id}/{name}" for name in files] == keys


def test_s3_backups_are_listed_verified_and_pruned(
    s3_settings: Settings, store: Any, migrated: None
) -> None:
    located = s3_settings.model_copy(update={"backup_uri": f"s3://{new_bucket(store)}/sets"})
    first = take_backup(located, ["jobs"])
    time.sleep(1.01)
    second = take_backup(located, ["jobs"])

    listed = [m.backup_id for m in list_backups(located)]
    verify_backup(located, second.backup_id)
    deleted = prune_backups(located, keep=1)

    assert ([first.backup_id, second.backup_id], [first.backup_id]) == (listed, deleted)
    assert [second.backup_id] == [m.backup_id for m in list_backups(located)]


def test_damaged_s3_backup_is_refused_and_the_table_is_unchanged(
    s3_settings: Settings, store: Any, db: psycopg.Connection, migrated: None
) -> None:
    backups = new_bucket(store)
    located = s3_settings.model_copy(update={"backup_uri": f"s3://{backups}"})
    manifest = take_backup(located, ["jobs"])
    key = f"{manifest.backup_id}/jobs.avro"
    data = store.get_object(Bucket=backups, Key=key)["Body"].read()
    store.put_object(Bucket=backups, Key=key, Body=data[: len(data) // 2])
    db.execute("UPDATE jobs SET job = 'changed' WHERE id > 150")
    before = db.execute("SELECT * FROM jobs ORDER BY id").fetchall()

    with pytest.raises(BackupCorrupt, match="damaged or truncated"):
        restore(located, ["jobs"])

    assert before == db.execute("SELECT * FROM jobs ORDER BY id").fetchall()
