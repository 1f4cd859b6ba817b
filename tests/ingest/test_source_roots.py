"""Sources named through the API lie under HRDATA_SOURCE_ROOTS, after symlinks and `..`;
anything else is refused with 403 before the file is even looked at. The CLI reads any path."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from hrdata.api.app import create_app
from hrdata.errors import SourceError, SourceOutsideRoots, http_status
from hrdata.ingest.loader import RejectLimit
from hrdata.ingest.roots import SourceRoots
from hrdata.ingest.sources import resolve
from hrdata.jobs import get_job, start_migration
from hrdata.settings import Settings
from tests.support.fixture_types import AsRole, FinishedJob, Invoke, RowsIn

S3_ROOT = "s3://inbox/allowed/"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """tmp/data (the root) beside tmp/data-evil and tmp/secret, with symlinks leading out."""
    for folder in ("data", "data-evil", "secret"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "departments.csv").write_text(f"1,{folder}\n")
    data = tmp_path / "data"
    (data / "outside").symlink_to(tmp_path / "secret")
    (data / "jobs.csv").symlink_to(tmp_path / "secret" / "departments.csv")
    (data / "sneaky").mkdir()
    (data / "sneaky" / "departments.csv").symlink_to(tmp_path / "secret" / "departments.csv")
    (data / "inner").symlink_to(data / "sneaky" / "..")  # a symlink that stays inside
    return tmp_path


@pytest.fixture
def confined(settings: Settings, tree: Path) -> Settings:
    """The test's settings with one local root, tmp/data, and one S3 prefix."""
    return settings.model_copy(update={"source_roots": [str(tree / "data"), S3_ROOT]})


@pytest.fixture
def api(confined: Settings, db: psycopg.Connection) -> Iterator[TestClient]:
    with TestClient(create_app(confined)) as client:
        yield client


def post_migration(api: TestClient, as_role: AsRole, *sources: str) -> tuple[int, str, str]:
    response = api.post("/v1/migrations", json={"sources": list(sources)}, headers=as_role("admin"))
    error = response.json().get("error", {})
    return response.status_code, error.get("type", ""), error.get("message", "")


def test_a_file_outside_the_roots_is_refused_with_403_naming_the_rule(
    api: TestClient, as_role: AsRole
) -> None:
    status, kind, message = post_migration(api, as_role, "/etc/passwd")

    assert (403, "source_outside_roots") == (status, kind)
    assert "HRDATA_SOURCE_ROOTS" in message


def test_a_relative_path_that_climbs_out_of_a_root_is_refused(
    api: TestClient, as_role: AsRole, tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tree / "data")
    climb = os.path.relpath("/etc/hostname")

    assert (403, "source_outside_roots") == post_migration(api, as_role, climb)[:2]


def test_dot_dot_after_a_root_is_resolved_before_the_check(
    api: TestClient, as_role: AsRole, tree: Path
) -> None:
    spec = f"{tree}/data/../secret/departments.csv"

    assert (403, "source_outside_roots") == post_migration(api, as_role, spec)[:2]


@pytest.mark.parametrize("inside", ["outside", "outside/departments.csv", "jobs.csv"])
def test_a_symlink_inside_a_root_pointing_outside_is_refused(
    api: TestClient, as_role: AsRole, tree: Path, inside: str
) -> None:
    assert (403, "source_outside_roots") == post_migration(api, as_role, f"{tree}/data/{inside}")[
        :2
    ]


def test_a_folder_inside_a_root_holding_a_symlink_to_outside_is_refused(
    api: TestClient, as_role: AsRole, tree: Path
) -> None:
    status, kind, message = post_migration(api, as_role, f"{tree}/data/sneaky")

    assert (403, "source_outside_roots") == (status, kind)
    assert "sneaky/departments.csv" in message


def test_a_sibling_folder_sharing_the_roots_prefix_is_refused(
    api: TestClient, as_role: AsRole, tree: Path
) -> None:
    spec = f"{tree}/data-evil/departments.csv"

    assert (403, "source_outside_roots") == post_migration(api, as_role, spec)[:2]


@pytest.mark.parametrize(
    "uri",
    [
        "s3://inbox/other/departments.csv",
        "s3://inbox/allowedevil/departments.csv",
        "s3://elsewhere/allowed/departments.csv",
        "s3://inbox/allowed/../other/departments.csv",
        "s3://inbox/allowed/./../other/",
    ],
)
def test_an_s3_uri_outside_the_s3_roots_is_refused(
    api: TestClient, as_role: AsRole, uri: str
) -> None:
    assert (403, "source_outside_roots") == post_migration(api, as_role, uri)[:2]


def test_a_missing_file_outside_the_roots_gets_the_same_answer_as_an_existing_one(
    api: TestClient, as_role: AsRole
) -> None:
    """The check comes before the file is looked at, so the API cannot probe for files."""
    existing = post_migration(api, as_role, "/etc/passwd")
    missing = post_migration(api, as_role, "/etc/no-such-file-here")

    assert (existing[0], existing[1]) == (missing[0], missing[1])


def test_a_refused_source_leaves_no_job_and_no_reject_to_read(
    api: TestClient, as_role: AsRole, rows_in: RowsIn
) -> None:
    post_migration(api, as_role, "/etc/passwd")

    page = api.get("/v1/rejects", params={"source": "/etc/passwd"}, headers=as_role("read"))

    assert (200, [], 0) == (page.status_code, page.json()["rejects"], rows_in("background_jobs"))


def test_a_file_inside_a_root_is_migrated_through_the_api(
    api: TestClient,
    as_role: AsRole,
    tree: Path,
    db: psycopg.Connection,
    rows_in: RowsIn,
    finished_job: FinishedJob,
) -> None:
    started = api.post(
        "/v1/migrations",
        json={"sources": [f"{tree}/data/inner/departments.csv"]},
        headers=as_role("admin"),
    )
    assert 202 == started.status_code, started.text
    job_id = started.json()["job_id"]
    job = finished_job(lambda: get_job(db, job_id), seconds=30)

    assert ("succeeded", 1) == (job.status, rows_in("departments"))


def test_a_migration_job_checks_the_roots_itself(
    confined: Settings, db: psycopg.Connection, rows_in: RowsIn, finished_job: FinishedJob
) -> None:
    """The job resolves its sources again when it runs; it applies the same roots then."""
    roots = SourceRoots.from_settings(confined)
    job_id = start_migration(db, confined, ["/etc/passwd"], None, RejectLimit(), {}, roots=roots)
    job = finished_job(lambda: get_job(db, job_id), seconds=30)

    assert ("failed", 0) == (job.status, rows_in("rejected_rows"))
    assert job.error is not None
    assert "HRDATA_SOURCE_ROOTS" in job.error


def test_the_cli_still_reads_a_path_outside_the_roots(
    run: Invoke, tree: Path, rows_in: RowsIn
) -> None:
    result = run(
        "migrate", str(tree / "secret" / "departments.csv"), HRDATA_SOURCE_ROOTS=str(tree / "data")
    )

    assert (0, 1) == (result.exit_code, rows_in("departments")), result.output


def test_roots_may_be_empty_and_then_the_api_reads_no_source(
    confined: Settings, tree: Path
) -> None:
    roots = SourceRoots.from_settings(confined.model_copy(update={"source_roots": []}))

    with pytest.raises(SourceOutsideRoots):
        resolve([str(tree / "data" / "departments.csv")], confined, roots=roots)


# Segments a caller can put in a path: climbing, staying, doubled slashes, the names in the
# tree (the symlinks among them), the prefix trick, and any text at all.
SEGMENTS = st.one_of(
    st.sampled_from(
        [
            *("..", ".", "", "data", "data-evil", "secret", "outside", "inner", "sneaky"),
            *("departments.csv", "jobs.csv", "etc", "passwd", "é", "데이터", "\u202e"),
        ]
    ),
    st.text(min_size=1, max_size=12),
)
SPECS = st.builds(
    lambda lead, parts: lead + "/".join(parts),
    st.sampled_from(["", "/", "./", "../", "//", "{tree}/", "{tree}/data/", "data/"]),
    st.lists(SEGMENTS, min_size=1, max_size=8),
)


def _inside(path: str, root: str) -> bool:
    return os.path.commonpath([path, root]) == root


@hypothesis_settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(spec=SPECS)
def test_any_path_a_caller_names_is_refused_or_read_inside_a_root(
    confined: Settings, tree: Path, monkeypatch: pytest.MonkeyPatch, spec: str
) -> None:
    monkeypatch.chdir(tree)
    spec = spec.replace("{tree}", str(tree))
    root = os.path.realpath(tree / "data")
    roots = SourceRoots.from_settings(confined)

    try:
        sources = resolve([spec], confined, roots=roots)
    except SourceOutsideRoots as exc:
        assert 403 == http_status(exc)
        return
    except SourceError:
        # Refused for another reason (missing, empty, not a table's file): only ever inside,
        # unless the name is one no file system can hold (a NUL, a lone surrogate).
        try:
            real = os.path.realpath(spec)
        except ValueError:
            return
        assert _inside(real, root), spec
        return
    for source in sources:
        with source.open_raw() as stream:
            opened = os.path.realpath(stream.name)  # type: ignore[attr-defined]
        assert _inside(opened, root), (spec, opened)
