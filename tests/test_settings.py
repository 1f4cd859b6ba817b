"""Settings: environment with the HRDATA_ prefix, an optional .env file, secret files."""

from __future__ import annotations

from pathlib import Path

import pytest

from hrdata.settings import Settings, load_settings
from tests.support.paths import DOCS


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (
        "HRDATA_DATABASE_URL",
        "HRDATA_HOME",
        "HRDATA_LOG_URI",
        "HRDATA_SECRETS_DIR",
        "HRDATA_SOURCE_ROOTS",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def test_defaults_need_no_configuration() -> None:
    settings = load_settings()

    assert (None, Path(".hrdata"), ".hrdata/logs") == (
        settings.database_url,
        settings.home,
        settings.logs_location,
    )


def test_reads_prefixed_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HRDATA_MAX_LINE_BYTES", "4096")

    assert 4096 == load_settings().max_line_bytes


def test_reads_a_dotenv_file(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("HRDATA_LOG_URI=s3://logs/hrdata/\n")

    assert "s3://logs/hrdata" == load_settings().logs_location


def test_reads_the_database_url_from_a_secret_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "hrdata_database_url").write_text("postgresql://db.internal/hr")
    monkeypatch.setenv("HRDATA_SECRETS_DIR", str(secrets))

    url = load_settings().database_url

    assert url is not None and "postgresql://db.internal/hr" == url.get_secret_value()


def test_database_url_is_hidden_when_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HRDATA_DATABASE_URL", "postgresql://u:not-the-password@db/hr")

    assert "not-the-password" not in repr(load_settings())


def test_every_setting_is_documented() -> None:
    documented = (DOCS / "configuration.md").read_text()

    assert [] == [
        name for name in Settings.model_fields if f"`HRDATA_{name.upper()}`" not in documented
    ]


def test_source_roots_default_to_the_data_folder_and_any_s3_bucket() -> None:
    assert ["data", "s3://"] == load_settings().source_roots


@pytest.mark.parametrize(
    "value",
    ['["/srv/hr", "s3://inbox/hr/"]', "/srv/hr,s3://inbox/hr/", " /srv/hr , s3://inbox/hr/ "],
)
def test_source_roots_are_read_as_json_or_a_comma_separated_list(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("HRDATA_SOURCE_ROOTS", value)

    assert ["/srv/hr", "s3://inbox/hr/"] == load_settings().source_roots


def test_source_roots_may_be_set_to_none_at_all(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HRDATA_SOURCE_ROOTS", "")

    assert [] == load_settings().source_roots
