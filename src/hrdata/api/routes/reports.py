"""The visual report for people with a browser: an HTML page (and its PDF) behind a login form.

A browser cannot send an `Authorization` header from a link, so the login form puts the key in
an HttpOnly, SameSite=Strict cookie scoped to /reports. The cookie is accepted here only, never
by the JSON API, so it cannot be used to write anything across sites; the key is never in a URL.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Cookie, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from hrdata.api.deps import ConnectionDep, check_key
from hrdata.api.errors import ErrorResponse, documented
from hrdata.api.strict_json import StrictJsonRoute
from hrdata.auth import require
from hrdata.dictionary import HIRE_YEARS
from hrdata.errors import Forbidden, NotAuthenticated, TooManyFailures
from hrdata.metrics.queries import MeanOver
from hrdata.metrics.report import build_report, render_html, render_login, render_pdf

router = APIRouter(prefix="/reports", tags=["reports"], route_class=StrictJsonRoute)

COOKIE = "hrdata_key"
_MAX_FORM_BYTES = 4096  # a key and nothing else

Year = Annotated[
    int, Query(ge=HIRE_YEARS[0], le=HIRE_YEARS[1], description="The calendar year, in UTC")
]
MeanOverQuery = Annotated[MeanOver, Query(description="`all` or `hiring`, as in the API")]
KeyCookie = Annotated[str | None, Cookie(alias=COOKIE, include_in_schema=False)]


def _check_key(request: Request, conn: ConnectionDep, key: str | None) -> None:
    """Admit a live key with role read (or admin); raises NotAuthenticated, Forbidden or
    TooManyFailures."""
    require(check_key(request, conn, key), "read")


def _presented_key(request: Request, cookie: str | None) -> str | None:
    """The cookie, or an Authorization header for scripts."""
    header = request.headers.get("authorization", "")
    return header[7:] if header.lower().startswith("bearer ") else cookie


def _login_page(message: str | None, status: int, retry_after: int | None = None) -> HTMLResponse:
    headers = {**_NO_STORE, **({"Retry-After": str(retry_after)} if retry_after else {})}
    return HTMLResponse(render_login(message), status_code=status, headers=headers)


_NO_STORE = {"Cache-Control": "no-store"}


def _html(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"text/html": {}}}


_LOGIN_PAGES: dict[int | str, dict[str, Any]] = {
    401: _html("The login form: no key, or one that is unknown or revoked"),
    403: _html("The login form: the key's role may not read"),
    429: _html("The login form: too many wrong keys from this address; see Retry-After"),
    503: {"model": ErrorResponse, "description": "The database is unavailable"},
}


@router.get(
    "",
    summary="The metrics report as an HTML page (a login form without a valid key)",
    response_class=HTMLResponse,
    responses=_LOGIN_PAGES,
)
def report_page(
    conn: ConnectionDep,
    request: Request,
    key: KeyCookie = None,
    year: Year = 2021,
    mean_over: MeanOverQuery = "all",
) -> HTMLResponse:
    try:
        _check_key(request, conn, _presented_key(request, key))
    except NotAuthenticated as exc:
        return _login_page(None if key is None else str(exc), 401)
    except Forbidden as exc:
        return _login_page(str(exc), 403)
    except TooManyFailures as exc:
        return _login_page(str(exc), 429, exc.retry_after)
    report = build_report(conn, year, mean_over)
    return HTMLResponse(render_html(report, controls=True), headers=_NO_STORE)


@router.get(
    "/pdf",
    summary="The metrics report as a PDF file",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, **documented(401, 403, 503)},
)
def report_pdf(
    conn: ConnectionDep,
    request: Request,
    key: KeyCookie = None,
    year: Year = 2021,
    mean_over: MeanOverQuery = "all",
) -> Response:
    _check_key(request, conn, _presented_key(request, key))
    pdf = render_pdf(build_report(conn, year, mean_over))
    disposition = f'attachment; filename="hrdata-report-{year}.pdf"'
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": disposition, **_NO_STORE},
    )


@router.post(
    "/login",
    summary="Sign in with an API key (a form post); sets the cookie",
    status_code=303,
    response_class=RedirectResponse,
    responses={303: {"description": "Signed in: on to the report"}, **_LOGIN_PAGES},
)
async def login(request: Request, conn: ConnectionDep) -> Response:
    body = await request.body()
    form = parse_qs(body[:_MAX_FORM_BYTES].decode("utf-8", "replace"))
    key = (form.get("key") or [""])[0].strip()
    try:
        # scrypt takes tens of milliseconds: off the event loop.
        await run_in_threadpool(_check_key, request, conn, key)
    except (NotAuthenticated, Forbidden) as exc:
        return _login_page(str(exc), 403 if isinstance(exc, Forbidden) else 401)
    except TooManyFailures as exc:
        return _login_page(str(exc), 429, exc.retry_after)
    params = {name: form[name][0] for name in ("year", "mean_over") if form.get(name)}
    target = "/reports" + (f"?{urlencode(params)}" if params else "")
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE,
        key,
        path="/reports",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post(
    "/logout",
    summary="Sign out: forget the cookie",
    status_code=303,
    response_class=RedirectResponse,
    responses={303: {"description": "Signed out: on to the login form"}},
)
def logout() -> Response:
    response = RedirectResponse("/reports", status_code=303)
    response.delete_cookie(COOKIE, path="/reports", httponly=True, samesite="strict")
    return response
