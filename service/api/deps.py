"""FastAPI dependencies as `Annotated` aliases; tests override them through the app."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from service.audit.events import RequestAudit
from service.auth import Caller, authenticate
from service.errors import Unauthenticated
from service.runtime import Runtime

_bearer = HTTPBearer(auto_error=False, description="An access point's API key")


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_audit(request: Request) -> RequestAudit | None:
    """This request's audit record (None for unaudited paths and audit-off benchmarks)."""
    audit: RequestAudit | None = getattr(request.state, "audit", None)
    if audit is not None:  # routing is done: the event may be written before the middleware sees it
        audit.route = getattr(request.scope.get("route"), "path", audit.route)
    return audit


AuditDep = Annotated[RequestAudit | None, Depends(get_audit)]


def get_caller(
    runtime: RuntimeDep,
    audit: AuditDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    presented = credentials.credentials if credentials else None
    try:
        with runtime.sessions() as session:
            caller = authenticate(session, presented, runtime.clock.now())
    except Unauthenticated:
        if audit is not None and presented:
            # The key's public id (never the secret) tells supervisors who tried.
            audit.presented_key_id = presented.split("_")[1][:24] if "_" in presented else None
        raise
    if audit is not None:
        audit.caller = caller
    return caller


CurrentCaller = Annotated[Caller, Depends(get_caller)]
