"""The Dockerfile and docker-compose.yml, checked without a Docker engine: what they name exists."""

from __future__ import annotations

import configparser
import json
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from hrdata.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments) of the Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in lines
        if line and not line.startswith("#")
    ]


def instructions(name: str) -> list[str]:
    return [arguments for instruction, arguments in dockerfile() if instruction == name]


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def test_the_image_is_built_in_stages_on_a_slim_python() -> None:
    bases = instructions("FROM")

    assert len(bases) >= 2
    assert all(re.match(r"python:3\.1[1-9]-slim\b", base) for base in bases)


def test_the_entry_point_is_the_real_console_script() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    entry = json.loads(instructions("ENTRYPOINT")[-1])

    assert ["hrdata"] == entry
    assert "hrdata.cli:main" == scripts["hrdata"]


def test_the_image_runs_as_a_user_that_is_not_root() -> None:
    user = instructions("USER")[-1]

    assert user not in ("root", "0")


def test_the_image_checks_its_health_on_the_health_endpoint() -> None:
    (check,) = instructions("HEALTHCHECK")

    assert "http://127.0.0.1:8000/health" in check


def test_compose_runs_postgres_an_s3_store_and_the_api() -> None:
    services = compose()["services"]

    assert services["postgres"]["image"].startswith("postgres:")
    assert services["s3"]["image"].startswith("minio/")
    assert "." == services["api"]["build"]


def test_every_hrdata_variable_compose_sets_is_a_real_setting() -> None:
    known = {f"HRDATA_{name.upper()}" for name in Settings.model_fields} | {"HRDATA_SECRETS_DIR"}
    set_by_compose = {
        name
        for service in compose()["services"].values()
        for name in service.get("environment", {})
        if name.startswith("HRDATA_")
    }

    assert set_by_compose
    assert set() == set_by_compose - known


def test_every_secret_file_the_api_reads_is_named_like_its_setting() -> None:
    known = set(Settings.model_fields)
    api = compose()["services"]["api"]
    hrdata_secrets = [s for s in api["secrets"] if s.startswith("hrdata_")]

    assert "/run/secrets" == api["environment"]["HRDATA_SECRETS_DIR"]
    assert hrdata_secrets
    assert all(s.removeprefix("hrdata_") in known for s in hrdata_secrets)


@pytest.mark.parametrize("service", ["postgres", "s3", "s3-bucket", "api"])
def test_compose_holds_no_credential_only_files_that_hold_them(service: str) -> None:
    environment = compose()["services"][service].get("environment", {})
    secretish = [n for n in environment if re.search(r"PASSWORD|SECRET|KEY|TOKEN", n)]

    assert all(n.endswith("_FILE") or n == "HRDATA_SECRETS_DIR" for n in secretish)
    assert "://" not in str(environment.get("HRDATA_DATABASE_URL", ""))
    assert all(spec["file"].startswith("./secrets/") for spec in compose()["secrets"].values())


def test_the_secrets_folder_is_never_committed() -> None:
    ignored = (ROOT / ".gitignore").read_text().split()
    docker_ignored = (ROOT / ".dockerignore").read_text().split()

    assert "secrets/" in ignored
    assert "secrets" in docker_ignored


def test_make_secrets_writes_private_files_that_agree_with_each_other(tmp_path: Path) -> None:
    (tmp_path / "scripts").mkdir()
    script = tmp_path / "scripts" / "make-secrets"
    shutil.copy(ROOT / "scripts" / "make-secrets", script)

    subprocess.run([str(script)], check=True, capture_output=True)
    subprocess.run([str(script)], check=True, capture_output=True)  # keeps what exists

    folder = tmp_path / "secrets"
    files = {p.name: p for p in folder.iterdir()}
    assert set(compose()["secrets"]) == set(files)
    assert all(0o600 == p.stat().st_mode & 0o777 for p in files.values())
    password = files["postgres_password"].read_text()
    url = files["hrdata_database_url"].read_text()
    assert f"postgresql://hrdata:{password}@postgres:5432/hrdata" == url
    credentials = configparser.ConfigParser()
    credentials.read(files["aws_credentials"])
    assert files["s3_secret_key"].read_text() == credentials["default"]["aws_secret_access_key"]
