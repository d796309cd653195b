"""The console's plumbing: templates, the signed-in caller, and turning refusals into pages.

Every page is handled by `show`: it finds the session's caller (or sends the browser to sign
in), names the audit event after the API operation the page stands for, checks the page's
roles, and renders the template; a refusal or bad input becomes an HTML page with the status
the API would have answered with, and the audit event names the problem, as for the API.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from service.audit.events import Operation, RequestAudit
from service.auth import Caller
from service.auth.keys import caller_by_key_id
from service.console.access import Page, pages_for, require_page
from service.console.session import COOKIE, ConsoleSession, SessionSigner
from service.errors import ServiceError, Unauthenticated
from service.runtime import Runtime

HERE = Path(__file__).parent
OVERSIGHT = "oversight (Art 41)"
templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html", "svg"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def signer(request: Request, runtime: Runtime) -> SessionSigner:
    """One signer per app: its sign-out memory must be shared by the app's requests."""
    found: SessionSigner | None = getattr(request.app.state, "console_signer", None)
    if found is None:
        found = SessionSigner(runtime.master.key,
                              dt.timedelta(seconds=runtime.settings.console_session_seconds))
        request.app.state.console_signer = found
    return found


def current_session(request: Request, runtime: Runtime
                    ) -> tuple[ConsoleSession, Caller] | None:
    """The signed-in session and its caller, or None (no cookie, expired, key revoked)."""
    now = runtime.clock.now()
    session = signer(request, runtime).read(request.cookies.get(COOKIE), now)
    if session is None:
        return None
    with runtime.sessions() as db:
        try:
            return session, caller_by_key_id(db, session.key_id, now)
        except Unauthenticated:
            return None


def render(request: Request, template: str, context: Mapping[str, Any], status: int = 200
           ) -> HTMLResponse:
    html = templates.get_template(template).render(request=request, **context)
    return HTMLResponse(html, status_code=status)


def to_sign_in(request: Request, expired: bool) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    suffix = "&expired=1" if expired else ""
    return RedirectResponse(f"/console/sign-in?next={quote(target, safe='')}{suffix}", 303)


def refusal(request: Request, audit: RequestAudit | None, error: ServiceError,
            **context: Any) -> HTMLResponse:
    if audit is not None:
        audit.problem = error.slug
    return render(request, "refused.html", {"error": error, **context}, error.status)


Build = Callable[[Caller], tuple[str, Mapping[str, Any]] | Response]


def show(request: Request, runtime: Runtime, audit: RequestAudit | None, page: Page,
         operation: Operation, build: Build) -> Response:
    """Render `page` for the session's caller, audited as `operation`."""
    found = current_session(request, runtime)
    if found is None:
        return to_sign_in(request, expired=COOKIE in request.cookies)
    session, caller = found
    if audit is not None:
        audit.caller, audit.operation, audit.purpose = caller, operation, OVERSIGHT
    frame = {"caller": caller, "pages": pages_for(caller), "active": page,
             "csrf": signer(request, runtime).csrf_token(session),
             "expires": session.expires, "now": runtime.clock.now()}
    try:
        require_page(caller, page)
        built = build(caller)
    except ServiceError as error:
        return refusal(request, audit, error, **frame)
    if isinstance(built, Response):
        return built
    template, context = built
    return render(request, template, {**frame, **context})
