"""The types of conftest.py's fixtures, for the annotations of the tests that ask for them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

import httpx
from click.testing import Result
from fastapi.testclient import TestClient

Invoke = Callable[..., Result]
AsRole = Callable[[str], dict[str, str]]
RowsIn = Callable[[str], int]


class WithStatus(Protocol):
    """A job as the library returns it (`hrdata.wire.Job`)."""

    @property
    def status(self) -> str: ...


# A job's state as a test reads it: the API's JSON object or the library's `Job`.
JobState = TypeVar("JobState", bound="dict[str, Any] | WithStatus")


class FinishedJob(Protocol):
    def __call__(self, read: Callable[[], JobState], seconds: float = ...) -> JobState: ...


class ApiJob(Protocol):
    def __call__(
        self, api: TestClient, started: httpx.Response, path: str = ...
    ) -> dict[str, Any]: ...


class MigrateViaApi(Protocol):
    def __call__(self, api: TestClient, **body: Any) -> dict[str, Any]: ...
