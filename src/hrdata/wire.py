"""The API's messages, declared once: the routes answer with them and the desktop client reads
them back. Only pydantic here, so the client needs nothing else of the server."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class Job(BaseModel):
    """A background job (migration, backup, verify, restore): status, progress, result."""

    job_id: str
    kind: str
    status: str
    request: dict[str, Any]
    progress: dict[str, Any]
    result: dict[str, Any] | None
    error: str | None
    created_at: datetime
    updated_at: datetime

    @property
    def running(self) -> bool:
        return self.status == "running"
