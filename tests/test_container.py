"""The Dockerfile and docker-compose.yml, checked without a Docker engine: what they name exists."""

from __future__ import annotations

import configparser
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from hrdata.settings import Settings
from tests.support.paths import ROOT


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


def container_ids() -> tuple[int, int]:
    """The uid and gid the API container runs as (the Dockerfile's last USER, numeric)."""
    uid, _, gid = instructions("USER")[-1].partition(":")
    return int(uid), int(gid)


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


def test_the_image_checks_its_health_on_the_readiness_endpoint() -> None:
    (check,) = instructions("HEALTHCHECK")

    assert "http://127.0.0.1:8000/ready'" in check


def test_the_image_runs_as_a_numeric_user_and_group() -> None:
    """Numeric, so the host side (make-secrets' group) and the image agree without a lookup."""
    assert (10001, 10001) == container_ids()


@pytest.mark.parametrize("image", ["minio/minio", "minio/mc"])
def test_the_minio_images_are_pinned_to_a_release(image: str) -> None:
    used = [
        s["image"]
        for s in compose()["services"].values()
        if s.get("image", "").startswith(image + ":")
    ]

    assert used
    assert all(
        re.fullmatch(rf"{image}:RELEASE\.\d{{4}}-\d\d-\d\dT\d\d-\d\d-\d\dZ", u) for u in used
    )


def test_every_long_running_service_restarts_unless_stopped() -> None:
    services = compose()["services"]
    one_shot = {
        name
        for service in services.values()
        for name, wait in service.get("depends_on", {}).items()
        if wait["condition"] == "service_completed_successfully"
    }
    long_running = sorted(set(services) - one_shot)

    assert ["s3-bucket"] == sorted(one_shot)
    assert dict.fromkeys(long_running, "unless-stopped") == {
        name: services[name].get("restart") for name in long_running
    }


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


@pytest.mark.slow
def test_make_secrets_writes_private_files_that_agree_with_each_other(tmp_path: Path) -> None:
    make_secrets(tmp_path).check_returncode()
    make_secrets(tmp_path).check_returncode()  # keeps what exists

    folder = tmp_path / "secrets"
    files = {p.name: p for p in folder.iterdir()}
    assert set(compose()["secrets"]) == set(files)
    private = [
        p for name, p in files.items() if name not in compose()["services"]["api"]["secrets"]
    ]
    assert private
    assert all(0o600 == p.stat().st_mode & 0o777 for p in private)
    password = files["postgres_password"].read_text()
    url = files["hrdata_database_url"].read_text()
    assert f"postgresql://hrdata:{password}@postgres:5432/hrdata" == url
    credentials = configparser.ConfigParser()
    credentials.read(files["aws_credentials"])
    assert files["s3_secret_key"].read_text() == credentials["default"]["aws_secret_access_key"]


def make_secrets(
    repo: Path, prefix: list[str] | None = None, **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    """Run a copy of scripts/make-secrets as if `repo` were the checkout (behind `prefix`)."""
    script = repo / "scripts" / "make-secrets"
    if not script.exists():
        script.parent.mkdir(exist_ok=True)
        shutil.copy(ROOT / "scripts" / "make-secrets", script)
    command = [*(prefix or []), str(script)]
    return subprocess.run(command, capture_output=True, text=True, **kwargs)


@pytest.fixture
def run_secrets() -> Iterator[Path]:
    """A folder like the container's /run/secrets: anyone may enter it, its files decide."""
    folder = Path(tempfile.mkdtemp(prefix="hrdata-run-secrets-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder)


def mount_api_secrets(secrets: Path, run_secrets: Path) -> None:
    """What compose does outside swarm: bind-mount each file, so same inode, owner and mode."""
    for name in compose()["services"]["api"]["secrets"]:
        os.link(
            secrets / compose()["secrets"][name]["file"].removeprefix("./secrets/"),
            run_secrets / name,
        )


def as_container_user(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    uid, gid = container_ids()
    setpriv = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups"]
    return subprocess.run([*setpriv, *command], capture_output=True, text=True, **kwargs)


needs_root = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None,
    reason="switching to the container's uid needs root and setpriv",
)


def hrdata_db_url_as_container_user(secrets_dir: Path) -> subprocess.CompletedProcess[str]:
    """`hrdata db url` as the container's user, its settings from `secrets_dir` only."""
    environment = {"PYTHONPATH": str(ROOT / "src"), "HRDATA_SECRETS_DIR": str(secrets_dir)}
    command = [sys.executable, "-m", "hrdata", "db", "url"]
    return as_container_user(command, env=environment, cwd=secrets_dir)


@pytest.fixture
def mounted_secrets(tmp_path: Path, run_secrets: Path) -> Path:
    """The API container's /run/secrets, from the files make-secrets writes under tmp_path."""
    make_secrets(tmp_path).check_returncode()
    mount_api_secrets(tmp_path / "secrets", run_secrets)
    return run_secrets


@pytest.mark.slow
@needs_root
def test_the_api_container_user_reads_its_settings_from_the_files_make_secrets_writes(
    mounted_secrets: Path,
) -> None:
    shown = hrdata_db_url_as_container_user(mounted_secrets)

    assert ("", 0) == (shown.stderr, shown.returncode)
    assert (mounted_secrets / "hrdata_database_url").read_text() == shown.stdout.strip()


@needs_root
def test_the_api_container_user_reads_every_secret_file_it_mounts(
    mounted_secrets: Path,
) -> None:
    files = sorted(mounted_secrets.iterdir())

    read = as_container_user(["cat", *map(str, files)])

    assert ("", 0) == (read.stderr, read.returncode)
    assert "".join(f.read_text() for f in files) == read.stdout


@needs_root
def test_make_secrets_run_by_a_user_who_cannot_give_the_files_to_the_container_says_what_to_run(
    run_secrets: Path,
) -> None:
    repo = run_secrets / "checkout"
    repo.mkdir()
    os.chown(repo, 10002, 10002)  # a user outside the container's group, as most are
    as_another_user = ["setpriv", "--reuid=10002", "--regid=10002", "--clear-groups"]

    made = make_secrets(repo, as_another_user, env={"PATH": "/usr/bin:/bin"})

    assert 1 == made.returncode
    assert f"sudo {repo / 'scripts' / 'make-secrets'}" in made.stderr
    files = list((repo / "secrets").iterdir())
    assert len(files) == len(compose()["secrets"])
    assert all(0o600 == f.stat().st_mode & 0o777 for f in files)  # never readable by others


@needs_root
def test_a_secret_file_the_user_may_not_read_is_one_error_line_naming_it(
    run_secrets: Path,
) -> None:
    secret = run_secrets / "hrdata_database_url"
    secret.write_text("postgresql://hrdata@postgres:5432/hrdata")
    secret.chmod(0o600)  # root's, as make-secrets left it before it gave the API its group

    shown = hrdata_db_url_as_container_user(run_secrets)

    assert 1 == shown.returncode
    assert shown.stderr.startswith("Error: cannot read settings: ")
    assert f"Permission denied: '{secret}'" in shown.stderr
    assert 1 == len(shown.stderr.splitlines())
