"""The desktop client's only way to the data: the hrdata REST API over HTTP (httpx).

Every failure, whatever its cause (the API's error body, a bare HTTP status, a refused
connection, a timeout, a bad URL, an answer that is not JSON), becomes one `ApiError` with a
message a person can read, built in `_failure` and `_unreachable`, and nowhere else.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from http import HTTPStatus
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
from pydantic import TypeAdapter

# The metrics' rows are the same records the server computes; the client builds them from JSON.
from hrdata.wire import (
    BatchResponse,
    DepartmentRow,
    DepartmentsAboveMean,
    HiresByQuarter,
    Job,
    ListedBackupOut,
    Me,
    QuarterRow,
)

T = TypeVar("T")
_BACKUPS = TypeAdapter(list[ListedBackupOut])

DEFAULT_URL = "http://127.0.0.1:8000"
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
# Where request parameters live, as FastAPI names them: not worth showing to a person.
_LOCATIONS = frozenset({"query", "body", "path", "header"})


class ClientError(Exception):
    """Base of the errors the desktop client shows as they are: one readable message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ApiError(ClientError):
    """A request that did not succeed, as one readable message (never a traceback).

    `status` is the HTTP status when the API answered, None when it could not be reached.
    """

    def __init__(self, message: str, *, status: int | None = None, kind: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind


def check_url(url: str) -> str:
    """The API's base URL without a trailing slash; raises ApiError when it cannot be one."""
    text = url.strip().rstrip("/")
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018  # raises ValueError on a port that is not a number
    except ValueError as exc:
        raise ApiError(f"invalid API URL {url!r}: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ApiError(f"invalid API URL {url!r}: expected http://host:port or https://host")
    return text


class ApiClient:
    """Typed calls to the hrdata API, over one httpx.Client; the key goes as a Bearer token.

    Raises ApiError from every method. `transport` is httpx's seam (tests wrap the real one).
    """

    def __init__(
        self,
        url: str,
        key: str,
        *,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = check_url(url)
        key = key.strip()
        if not key:
            raise ApiError("no API key: create one with `hrdata keys create --role admin`")
        if not (key.isascii() and key.isprintable()):
            raise ApiError("the API key holds characters no key has: paste it again")
        self._http = httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {key}", "User-Agent": "hrdata-gui"},
            timeout=timeout,
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- who is connected --------------------------------------------------------------------

    def me(self) -> Me:
        return self._call("GET", "/v1/me", Me.model_validate)

    # -- rows --------------------------------------------------------------------------------

    def post_rows(self, table: str, csv_bytes: bytes, idempotency_key: str) -> BatchResponse:
        """Send one CSV batch (1 to 1000 rows); a retry with the same key inserts nothing."""
        return self._call(
            "POST",
            f"/v1/tables/{table}/rows",
            BatchResponse.model_validate,
            content=csv_bytes,
            headers={"Content-Type": "text/csv", "Idempotency-Key": idempotency_key},
        )

    # -- jobs: migrations, backups, verifications, restores ----------------------------------

    def start_migration(
        self, sources: list[str], table: str | None = None, max_rejects: str | None = None
    ) -> Job:
        """Start a migration of paths (as the server sees them) or s3:// URIs."""
        request: dict[str, Any] = {"sources": sources}
        if table:
            request["table"] = table
        if max_rejects:
            request["max_rejects"] = max_rejects
        return self._call("POST", "/v1/migrations", Job.model_validate, json=request)

    def migration(self, job_id: str) -> Job:
        return self._call("GET", f"/v1/migrations/{job_id}", Job.model_validate)

    def job(self, job_id: str) -> Job:
        return self._call("GET", f"/v1/jobs/{job_id}", Job.model_validate)

    def wait(
        self,
        job: Job,
        *,
        on_update: Callable[[Job], None] | None = None,
        poll_seconds: float = 0.25,
        timeout_seconds: float = 3600.0,
    ) -> Job:
        """Poll `job` until it is no longer running and return it; raises ApiError on timeout."""
        deadline = time.monotonic() + timeout_seconds
        while job.running:
            if time.monotonic() > deadline:
                raise ApiError(f"job {job.job_id} still running after {timeout_seconds:g} s")
            time.sleep(poll_seconds)
            job = self.migration(job.job_id) if job.kind == "migration" else self.job(job.job_id)
            if on_update is not None:
                on_update(job)
        return job

    def backups(self) -> list[ListedBackupOut]:
        """Complete backup sets, oldest first."""
        return self._call(
            "GET", "/v1/backups", lambda b: [ListedBackupOut.model_validate(m) for m in b]
        )

    def start_backup(self, tables: list[str] | None = None) -> Job:
        return self._call("POST", "/v1/backups", Job.model_validate, json={"tables": tables})

    def verify(self, backup_id: str) -> Job:
        return self._call("POST", f"/v1/backups/{backup_id}/verify", Job.model_validate)

    def restore(self, table: str, backup_id: str) -> Job:
        body = {"backup_id": backup_id}
        return self._call("POST", f"/v1/tables/{table}/restore", Job.model_validate, json=body)

    # -- metrics -----------------------------------------------------------------------------

    def hires_by_quarter(self, year: int) -> HiresByQuarter:
        params = {"year": year}
        return self._call("GET", "/v1/metrics/hires-by-quarter", _hires, params=params)

    def departments_above_mean(self, year: int, mean_over: str = "all") -> DepartmentsAboveMean:
        params = {"year": year, "mean_over": mean_over}
        return self._call("GET", "/v1/metrics/departments-above-mean", _above, params=params)

    def hires_by_quarter_csv(self, year: int) -> bytes:
        params = {"year": year, "format": "csv"}
        return self._request("GET", "/v1/metrics/hires-by-quarter", params=params).content

    def departments_above_mean_csv(self, year: int, mean_over: str = "all") -> bytes:
        params = {"year": year, "mean_over": mean_over, "format": "csv"}
        return self._request("GET", "/v1/metrics/departments-above-mean", params=params).content

    # -- the one place failures become messages ----------------------------------------------

    def _call(self, method: str, path: str, parse: Callable[[Any], T], **kwargs: Any) -> T:
        """`parse` applied to the JSON answer; an answer of another shape is an ApiError too."""
        response = self._request(method, path, **kwargs)
        try:
            return parse(response.json())
        except (ValueError, KeyError, TypeError, AttributeError):
            raise ApiError(
                f"{self.url} answered {path} with something unexpected: is it an hrdata API?",
                status=response.status_code,
            ) from None

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        with self._reaching():
            response = self._http.request(method, path, **kwargs)
        if response.is_success:
            return response
        raise _failure(response)

    @contextmanager
    def _reaching(self) -> Iterator[None]:
        try:
            yield
        except httpx.TimeoutException as exc:
            raise ApiError(f"cannot reach {self.url}: {_timeout_text(exc)}") from None
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            raise ApiError(f"invalid API URL {self.url!r}: {exc}") from None
        except httpx.TransportError as exc:
            raise ApiError(f"cannot reach {self.url}: {_transport_text(exc)}") from None


def _failure(response: httpx.Response) -> ApiError:
    """An ApiError from an HTTP answer that is not a success: the API's message, else the status."""
    status = response.status_code
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "error"
    error: Any = None
    try:
        body = response.json()
        error = body.get("error") if isinstance(body, dict) else None
    except ValueError:
        pass
    if not isinstance(error, Mapping) or not isinstance(error.get("message"), str):
        return ApiError(f"the server answered {status} {phrase}", status=status)
    message = error["message"]
    details = [_detail(d) for d in error.get("details") or []]
    if details:
        message = f"{message}: {'; '.join(d for d in details if d)}"
    kind = error.get("type") if isinstance(error.get("type"), str) else None
    return ApiError(f"{message} ({status} {phrase})", status=status, kind=kind)


def _detail(detail: Any) -> str:
    if not isinstance(detail, Mapping):
        return str(detail)
    location = [str(p) for p in detail.get("location") or [] if str(p) not in _LOCATIONS]
    message = str(detail.get("message", ""))
    return f"{'.'.join(location)}: {message}" if location else message


def _timeout_text(exc: httpx.TimeoutException) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return "the connection timed out"
    return "no answer in time (the request timed out)"


def _transport_text(exc: httpx.TransportError) -> str:
    text = str(exc).lower()
    if "refused" in text:
        return "connection refused (is `hrdata serve` running?)"
    if "name or service not known" in text or "nodename nor servname" in text:
        return "unknown host name"
    if "name resolution" in text or "getaddrinfo" in text:
        return "unknown host name"
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError):
        return "the connection was lost"
    return str(exc) or type(exc).__name__


def _hires(body: dict[str, Any]) -> HiresByQuarter:
    columns = ("department_id", "department", "job_id", "job", "Q1", "Q2", "Q3", "Q4")
    rows = tuple(QuarterRow(*(r[c] for c in columns)) for r in body["rows"])
    return HiresByQuarter(year=body["year"], rows=rows)


def _above(body: dict[str, Any]) -> DepartmentsAboveMean:
    rows = tuple(DepartmentRow(r["id"], r["department"], r["hired"]) for r in body["rows"])
    return DepartmentsAboveMean(body["year"], body["mean_over"], body["mean"], rows)
