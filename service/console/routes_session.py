"""Signing in to the console with an API key, and out again."""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from service.api.deps import AuditDep, RuntimeDep
from service.audit.events import Operation
from service.auth import Caller, authenticate
from service.console.access import pages_for, require_console
from service.console.session import COOKIE, SIGN_IN_COOKIE
from service.console.web import current_session, render, signer, to_sign_in
from service.errors import Forbidden, InvalidInput, ServiceError, Unauthenticated
from service.runtime import Runtime

router = APIRouter(prefix="/console", include_in_schema=False)
_FORM_FIELD_BYTES = 512


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _same_origin(request: Request) -> bool:
    """A browser names the page a POST comes from; refuse one from another site."""
    origin = request.headers.get("origin")
    return origin is None or origin == f"{request.url.scheme}://{request.url.netloc}"


def _safe_next(target: str | None) -> str | None:
    """Only a console path on this site: never an open redirect."""
    if not target or not target.startswith("/console/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    return None if parts.scheme or parts.netloc else target


async def _form(request: Request) -> dict[str, str]:
    if request.headers.get("content-type", "").split(";")[0] != (
            "application/x-www-form-urlencoded"):
        raise InvalidInput("a form was expected")
    fields = parse_qs((await request.body()).decode("utf-8", "replace"), max_num_fields=8)
    return {name: values[0][:_FORM_FIELD_BYTES] for name, values in fields.items()}


def _sign_in_page(request: Request, status: int = 200, error: str | None = None) -> Response:
    token = secrets.token_urlsafe(24)
    response = render(request, "sign_in.html", {
        "token": token, "error": error, "next": _safe_next(request.query_params.get("next")),
        "expired": request.query_params.get("expired") == "1"}, status)
    response.set_cookie(SIGN_IN_COOKIE, token, max_age=600, path="/console", httponly=True,
                        samesite="strict", secure=_secure(request))
    return response


@router.get("")
def console_home(request: Request, runtime: RuntimeDep) -> Response:
    """The first page the signed-in caller may see."""
    found = current_session(request, runtime)
    if found is None:
        return to_sign_in(request, expired=False)
    pages = pages_for(found[1])
    return RedirectResponse(f"/console/{pages[0].value}" if pages else "/console/sign-in", 303)


@router.get("/sign-in")
def sign_in_form(request: Request) -> Response:
    """The sign-in form."""
    return _sign_in_page(request)


def _check_key(runtime: Runtime, presented: str) -> Caller:
    with runtime.sessions() as db:
        return authenticate(db, presented, runtime.clock.now())


@router.post("/sign-in")
async def sign_in(request: Request, runtime: RuntimeDep, audit: AuditDep) -> Response:
    """Check the API key once; the browser then holds a short signed session cookie."""
    if audit is not None:
        audit.operation = Operation.CONSOLE_SIGN_IN
    try:
        form = await _form(request)
        expected = request.cookies.get(SIGN_IN_COOKIE, "")
        if not (_same_origin(request) and expected
                and hmac.compare_digest(form.get("csrf", ""), expected)):
            raise Forbidden("the sign-in form expired or came from elsewhere: try again")
        presented = form.get("api_key", "").strip()
        try:
            caller = await run_in_threadpool(_check_key, runtime, presented)
        except Unauthenticated:
            if audit is not None and presented.count("_") >= 2:
                audit.presented_key_id = presented.split("_")[1][:24]
            raise
        if audit is not None:
            audit.caller = caller
        require_console(caller)
    except ServiceError as error:
        if audit is not None:
            audit.problem = error.slug
        return _sign_in_page(request, error.status, error.detail)
    cookie, _ = signer(request, runtime).issue(caller.key_id, runtime.clock.now())
    pages = pages_for(caller)
    target = _safe_next(request.query_params.get("next")) or f"/console/{pages[0].value}"
    response = RedirectResponse(target, 303)
    response.set_cookie(COOKIE, cookie, max_age=runtime.settings.console_session_seconds,
                        path="/console", httponly=True, samesite="strict",
                        secure=_secure(request))
    response.delete_cookie(SIGN_IN_COOKIE, path="/console")
    return response


@router.post("/sign-out")
async def sign_out(request: Request, runtime: RuntimeDep, audit: AuditDep) -> Response:
    """End the session (the form carries the session's CSRF token)."""
    if audit is not None:
        audit.operation = Operation.CONSOLE_SIGN_OUT
    found = await run_in_threadpool(current_session, request, runtime)
    if found is None:
        return to_sign_in(request, expired=False)
    session, caller = found
    if audit is not None:
        audit.caller = caller
    form = await _form(request)
    if not (_same_origin(request) and signer(request, runtime).csrf_ok(session, form.get("csrf"))):
        if audit is not None:
            audit.problem = Forbidden.slug
        return Response("sign-out refused: the form did not come from this console", 403,
                        media_type="text/plain")
    signer(request, runtime).end(session, runtime.clock.now())
    response = RedirectResponse("/console/sign-in", 303)
    response.delete_cookie(COOKIE, path="/console")
    return response
