"""Ids that sort in the order they were made: UTC time to the second and a random suffix."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime


def sortable_id() -> str:
    """A new id like 20261125T121400Z-ab12cd (ids made within one second sort at random)."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"
