"""FastAPI dependencies as `Annotated` aliases; tests override them through the app."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from service.auth import Caller, authenticate
from service.runtime import Runtime

_bearer = HTTPBearer(auto_error=False, description="An access point's API key")


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_caller(
    runtime: RuntimeDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    presented = credentials.credentials if credentials else None
    with runtime.sessions() as session:
        return authenticate(session, presented, runtime.clock.now())


CurrentCaller = Annotated[Caller, Depends(get_caller)]
