"""A backup set whose manifest cannot be read is listed as broken, with why, beside the others:
one bad set never hides the good ones (CLI, library and API)."""

from __future__ import annotations

import json

import psycopg
import pytest
from fastapi.testclient import TestClient

from hrdata.backup.manifest import MANIFEST
from hrdata.backup.sets import BrokenSet, list_backups, take_backup
from hrdata.settings import Settings
from tests.support.fixture_types import AsRole, Invoke

BROKEN_MANIFESTS = {
    "not json": b"{not json",
    "not an object": b"[]",
    "not utf-8": b"\xff\xfe{}",
    "fields missing": b'{"backup_id": "x"}',
    "rows not a number": None,  # a real manifest with one value changed, filled in below
}


@pytest.fixture(params=list(BROKEN_MANIFESTS))
def broken(request: pytest.FixtureRequest, settings: Settings, db: psycopg.Connection) -> str:
    """Two sets, the second with an unreadable manifest; returns the good one's id."""
    good = take_backup(settings, ["jobs"])
    bad = take_backup(settings, ["jobs"])
    path = settings.home / "backups" / bad.backup_id / MANIFEST
    content = BROKEN_MANIFESTS[request.param]
    if content is None:
        manifest = json.loads(path.read_text())
        manifest["tables"]["jobs"]["rows"] = "many"
        content = json.dumps(manifest).encode()
    path.write_bytes(content)
    return good.backup_id


def test_a_set_with_an_unreadable_manifest_is_listed_as_broken_beside_the_good_one(
    settings: Settings, broken: str
) -> None:
    found = list_backups(settings)

    bad = [entry for entry in found if isinstance(entry, BrokenSet)]
    assert [broken] == [entry.backup_id for entry in found if entry not in bad]
    assert 1 == len(bad) and "manifest.json" in bad[0].problem
    assert "\n" not in bad[0].problem


def test_backups_list_shows_the_broken_set_and_why_beside_the_good_one(
    run: Invoke, broken: str
) -> None:
    result = run("backups", "list")

    assert 0 == result.exit_code, result.output
    assert broken in result.stdout and "broken" in result.stdout


def test_backups_list_json_marks_each_set_complete_or_broken(run: Invoke, broken: str) -> None:
    result = run("backups", "list", "--json")

    listed = json.loads(result.stdout)
    assert 0 == result.exit_code, result.output
    assert [("complete", None)] == [
        (s["status"], s["problem"]) for s in listed if s["backup_id"] == broken
    ]
    assert ["broken"] == [s["status"] for s in listed if s["backup_id"] != broken]
    assert all(s["problem"] for s in listed if s["status"] == "broken")


def test_get_backups_lists_the_broken_set_and_why_beside_the_good_one(
    api: TestClient, as_role: AsRole, broken: str
) -> None:
    response = api.get("/v1/backups", headers=as_role("read"))

    listed = response.json()
    assert 200 == response.status_code, response.text
    assert {"complete", "broken"} == {s["status"] for s in listed}
    assert [broken] == [s["backup_id"] for s in listed if s["status"] == "complete"]
    assert all("manifest.json" in s["problem"] for s in listed if s["status"] == "broken")


def test_getting_the_broken_set_says_why(
    api: TestClient, as_role: AsRole, settings: Settings, broken: str
) -> None:
    (bad,) = [e for e in list_backups(settings) if isinstance(e, BrokenSet)]

    response = api.get(f"/v1/backups/{bad.backup_id}", headers=as_role("read"))

    assert (422, "backup_corrupt") == (response.status_code, response.json()["error"]["type"])
