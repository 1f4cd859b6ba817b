"""Background jobs: migrations, backups, verifies and restores started through the API."""

from hrdata.jobs.kinds import start_backup, start_migration, start_restore, start_verify
from hrdata.jobs.runner import DDL, get_job

__all__ = [
    "DDL",
    "get_job",
    "start_backup",
    "start_migration",
    "start_restore",
    "start_verify",
]
