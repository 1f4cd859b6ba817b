"""Backup ids: UTC time and a random suffix; anything else is refused before it reaches a path."""

from __future__ import annotations

import re

from hrdata.errors import InvalidArgument
from hrdata.ids import sortable_id

# The one definition: the API's path and body parameters take it too.
BACKUP_ID_PATTERN = r"^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6}$"
_BACKUP_ID = re.compile(BACKUP_ID_PATTERN)


def new_backup_id() -> str:
    """A new backup id; ids sort in the order backups were taken (to the second)."""
    return sortable_id()


def checked_backup_id(text: str) -> str:
    """`text` if it is a backup id; raises InvalidArgument (no paths, no keys) otherwise."""
    if not _BACKUP_ID.fullmatch(text):
        raise InvalidArgument(f"{text[:80]!r} is not a backup id (like 20261125T121400Z-ab12cd)")
    return text
