"""The visual report for people with a browser: an HTML page (and its PDF) behind a login form.

A browser cannot send an `Authorization` header from a link, so signing in with a key opens a
server-side session (hrdata.sessions) whose random token goes in an HttpOnly, SameSite=Strict
cookie scoped to /reports: the browser never holds the key, and a page view costs one indexed
read instead of a scrypt check. The cookie is accepted here only, never by the JSON API, and
the sign-in and sign-out forms refuse posts from other sites.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Cookie, Form, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from hrdata.api.deps import ConnectionDep, SettingsDep, check_key
from hrdata.api.errors import ErrorResponse, documented
from hrdata.api.login_page import render_login
from hrdata.api.strict_json import StrictJsonRoute
from hrdata.auth import Caller, require
from hrdata.dictionary import HIRE_YEARS
from hrdata.errors import Forbidden, NotAuthenticated, TooManyFailures, http_status
from hrdata.metrics import MeanOver
from hrdata.metrics.report import build_report, render_html, render_pdf
from hrdata.sessions import close_session, open_session, session_caller

router = APIRouter(prefix="/reports", tags=["reports"], route_class=StrictJsonRoute)

COOKIE = "hrdata_session"
_MAX_KEY_CHARS = 512  # far more than a key's 60-odd

Year = Annotated[
    int, Query(ge=HIRE_YEARS[0], le=HIRE_YEARS[1], description="The calendar year, in UTC")
]
MeanOverQuery = Annotated[MeanOver, Query(description="`all` or `hiring`, as in the API")]
SessionCookie = Annotated[str | None, Cookie(alias=COOKIE, include_in_schema=False)]


def _reader(request: Request, conn: ConnectionDep, key: str | None) -> Caller:
    """Admit a live key with role read (or admin); raises NotAuthenticated, Forbidden or
    TooManyFailures."""
    caller = check_key(request, conn, key)
    require(caller, "read")
    return caller


def _check_session(request: Request, conn: ConnectionDep, cookie: str | None) -> None:
    """Admit a session opened by a reader, or an Authorization header (scripts)."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        _reader(request, conn, header[7:])
    elif cookie:
        require(session_caller(conn, cookie), "read")
    else:
        raise NotAuthenticated("sign in with an API key of role read")


def _refuse_cross_site(request: Request) -> None:
    """Raise Forbidden for a form posted from another site (OWASP: check the request's origin).

    Browsers say where a post comes from in Sec-Fetch-Site and Origin; a client that sends
    neither (curl, a script) is not a browser another site can drive.
    """
    site = request.headers.get("sec-fetch-site")
    origin = request.headers.get("origin")
    own = f"{request.url.scheme}://{request.url.netloc}"
    if (site is not None and site not in ("same-origin", "none")) or (
        origin is not None and origin != own
    ):
        raise Forbidden("this form may only be posted from the report page itself")


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
    session: SessionCookie = None,
    year: Year = 2021,
    mean_over: MeanOverQuery = "all",
) -> HTMLResponse:
    try:
        _check_session(request, conn, session)
    except NotAuthenticated as exc:
        return _login_page(None if session is None else str(exc), http_status(exc))
    except (Forbidden, TooManyFailures) as exc:
        return _login_page(str(exc), http_status(exc), exc.retry_after)
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
    session: SessionCookie = None,
    year: Year = 2021,
    mean_over: MeanOverQuery = "all",
) -> Response:
    _check_session(request, conn, session)
    pdf = render_pdf(build_report(conn, year, mean_over))
    disposition = f'attachment; filename="hrdata-report-{year}.pdf"'
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": disposition, **_NO_STORE},
    )


@router.post(
    "/login",
    summary="Sign in with an API key (a form post); opens a session, whose token is the cookie",
    status_code=303,
    response_class=RedirectResponse,
    responses={303: {"description": "Signed in: on to the report"}, **_LOGIN_PAGES},
)
async def login(
    request: Request,
    conn: ConnectionDep,
    settings: SettingsDep,
    key: Annotated[str, Form(max_length=_MAX_KEY_CHARS)] = "",
) -> Response:
    try:
        _refuse_cross_site(request)
        # scrypt takes tens of milliseconds: off the event loop.
        caller = await run_in_threadpool(_reader, request, conn, key.strip())
    except (NotAuthenticated, Forbidden, TooManyFailures) as exc:
        return _login_page(str(exc), http_status(exc), exc.retry_after)
    lifetime = timedelta(hours=settings.report_session_hours)
    token = await run_in_threadpool(open_session, conn, caller, lifetime)
    response = RedirectResponse("/reports", status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(lifetime.total_seconds()),
        path="/reports",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post(
    "/logout",
    summary="Sign out: end the session and forget the cookie",
    status_code=303,
    response_class=RedirectResponse,
    responses={303: {"description": "Signed out: on to the login form"}},
)
def logout(request: Request, conn: ConnectionDep, session: SessionCookie = None) -> Response:
    _refuse_cross_site(request)
    if session:
        close_session(conn, session)
    response = RedirectResponse("/reports", status_code=303)
    response.delete_cookie(COOKIE, path="/reports", httponly=True, samesite="strict")
    return response
