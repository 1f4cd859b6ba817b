"""Settings from the environment (prefix HRDATA_), an optional .env file, and secret files."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    """Everything hrdata can be configured with. Built once at an entry point, then passed."""

    model_config = SettingsConfigDict(
        env_prefix="HRDATA_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    database_url: SecretStr | None = Field(
        default=None,
        description="PostgreSQL URL; when unset hrdata starts an embedded server under `home`.",
    )
    home: Path = Field(
        default=Path(".hrdata"),
        description="Folder for the embedded database, logs and temporary files.",
    )
    log_uri: str | None = Field(
        default=None,
        description="Where reject logs (JSON Lines) go: a folder or s3://bucket/prefix/. "
        "Defaults to <home>/logs.",
    )
    backup_uri: str | None = Field(
        default=None,
        description="Where backup sets go: a folder or s3://bucket/prefix (<home>/backups).",
    )
    source_roots: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["data", "s3://"],
        description="Where sources named through the API may lie: folders (a relative one is "
        "under the working directory) and s3://bucket/prefix; `s3://` alone is any bucket. "
        "JSON or comma-separated. The CLI reads any path.",
    )
    s3_region: str | None = Field(default=None, description="AWS region for S3.")
    s3_endpoint_url: str | None = Field(
        default=None, description="Endpoint of an S3-compatible store (MinIO, moto...)."
    )
    copy_batch_rows: int = Field(
        default=4096, gt=0, description="Rows sent to COPY in each write during a migration."
    )
    max_line_bytes: int = Field(
        default=1 << 20, gt=0, description="Longest CSV line accepted; longer lines are rejected."
    )
    connect_timeout_seconds: int = Field(default=10, gt=0)
    pool_size: int = Field(default=10, gt=0, description="Database connections per API process.")
    api_max_body_bytes: int = Field(
        default=5 << 20, gt=0, description="Largest request body the API reads (413 above)."
    )
    auth_scrypt_concurrency: int | None = Field(
        default=None,
        gt=0,
        description="scrypt key checks run at once per API process; more wait (unset: CPUs).",
    )
    auth_cache_seconds: float = Field(
        default=60,
        ge=0,
        description="How long a verified key skips scrypt (0: never); a revocation ends it.",
    )
    auth_failure_limit: int = Field(
        default=20,
        gt=0,
        description="Failed key checks one client address may make in the window before 429.",
    )
    auth_failure_window_seconds: float = Field(
        default=60, gt=0, description="The window auth_failure_limit counts failures in."
    )
    report_session_hours: float = Field(
        default=8,
        gt=0,
        description="How long a sign-in to the report pages lasts; sign-out or revocation ends it.",
    )
    statement_timeout_seconds: float = Field(
        default=60,
        ge=0,
        description="Longest an API request's SQL statement may run (0: no limit).",
    )
    metrics_fold_seconds: float = Field(
        default=1.0,
        ge=0,
        description="How often a running service folds hire-count deltas (0: never).",
    )

    @field_validator("log_uri")
    @classmethod
    def _strip_trailing_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    @field_validator("source_roots", mode="before")
    @classmethod
    def _split_roots(cls, value: Any) -> Any:
        # A list in an environment variable is most often written with commas; JSON still works
        # for a folder whose name holds one.
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator("source_roots")
    @classmethod
    def _check_roots(cls, value: list[str]) -> list[str]:
        for root in value:
            if not root.strip() or "\x00" in root:
                raise ValueError(f"a source root must be a folder or s3:// prefix, not {root!r}")
        return value

    @property
    def logs_location(self) -> str:
        return self.log_uri or str(self.home / "logs")


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, .env and secret files, with explicit overrides on top.

    A secret may be a file named after its variable (`hrdata_database_url`) in HRDATA_SECRETS_DIR.
    """
    secrets_dir = os.environ.get("HRDATA_SECRETS_DIR")
    return Settings(_secrets_dir=secrets_dir, **overrides)  # type: ignore[arg-type]
