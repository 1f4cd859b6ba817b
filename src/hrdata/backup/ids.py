"""Backup ids: UTC time and a random suffix; anything else is refused before it reaches a path."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime

from hrdata.errors import InvalidArgument

# The one definition: the API's path and body parameters take it too.
BACKUP_ID_PATTERN = r"^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6}$"
_BACKUP_ID = re.compile(BACKUP_ID_PATTERN)


def new_backup_id() -> str:
    """A new id; ids sort in the order backups were taken."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def checked_backup_id(text: str) -> str:
    """`text` if it is a backup id; raises InvalidArgument (no paths, no keys) otherwise."""
    if not _BACKUP_ID.fullmatch(text):
        raise InvalidArgument(f"{text[:80]!r} is not a backup id (like 20261125T121400Z-ab12cd)")
    return text
