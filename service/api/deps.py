"""FastAPI dependencies as `Annotated` aliases; tests override them through the app."""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from schemas.transmission import REFERENCE_NUMBER_PATTERN
from service.audit.events import RequestAudit
from service.auth import Caller, authenticate
from service.auth.cache import KeyCache
from service.auth.policy import check, operation_for
from service.auth.rate_limit import RateLimiter
from service.errors import RateLimited, Unauthenticated
from service.metrics.auth import count_failure, count_key_failure
from service.runtime import Runtime
from service.store.models import ApiKeyRow
from service.tls.binding import MISMATCH, Bindings, require_bound_certificate

#: Largest row id or sequence number a path or query may name (the databases' BIGINT).
ROW_ID_MAX = 2**63 - 1

ReferenceNumberPath = Annotated[str, Path(
    pattern=REFERENCE_NUMBER_PATTERN, max_length=30,
    description="Member State code, category digit, number; an officer's own datasets begin "
                "with its own Member State's code")]
RowIdPath = Annotated[int, Path(ge=1, le=ROW_ID_MAX)]

_bearer = HTTPBearer(auto_error=False, description="An access point's API key")


# Dependencies that do no I/O are `async def`: FastAPI runs a plain `def` dependency in the
# thread pool, and two thread hops per request cost more than the work (load tests).
async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_audit(request: Request) -> RequestAudit | None:
    """This request's audit record (None for unaudited paths and audit-off benchmarks)."""
    audit: RequestAudit | None = getattr(request.state, "audit", None)
    if audit is not None:  # routing is done: the event may be written before the middleware sees it
        audit.route = getattr(request.scope.get("route"), "path", audit.route)
        if audit.operation is None:  # the route's row names it (service.auth.policy)
            audit.operation = operation_for(audit.method, audit.route)
    return audit


AuditDep = Annotated[RequestAudit | None, Depends(get_audit)]


def _key_cache(request: Request, runtime: Runtime) -> KeyCache:
    cache: KeyCache | None = getattr(request.app.state, "key_cache", None)
    if cache is None:
        cache = KeyCache(runtime.settings.auth_cache_seconds)
        request.app.state.key_cache = cache
    return cache


def _lookup(runtime: Runtime, presented: str | None) -> tuple[Caller, dt.datetime | None]:
    now = runtime.clock.now()
    with runtime.sessions() as session:
        caller = authenticate(session, presented, now)
        row = session.get(ApiKeyRow, caller.key_id)  # already loaded: no second query
        expires = row.expires_at if row is not None else None
    if expires is not None and expires.tzinfo is None:
        expires = expires.replace(tzinfo=dt.UTC)  # SQLite returns naive UTC
    return caller, expires


async def get_caller(
    request: Request,
    runtime: RuntimeDep,
    audit: AuditDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    """The key's owner: from the short-lived key cache, else from the store (in a thread)."""
    presented = credentials.credentials if credentials else None
    cache = _key_cache(request, runtime)
    cached = cache.get(presented, runtime.clock.now()) if presented else None
    if cached is not None:
        caller = cached
    else:
        try:
            caller, expires = await run_in_threadpool(_lookup, runtime, presented)
        except Unauthenticated:
            key_id = presented.split("_")[1][:24] if presented and "_" in presented else None
            if audit is not None and presented:
                # The key's public id (never the secret) tells supervisors who tried.
                audit.presented_key_id = key_id
            await run_in_threadpool(count_key_failure, runtime.sessions, key_id)
            raise
        assert presented is not None
        cache.put(presented, caller, expires)
    await _client_certificate(request, runtime, audit, caller)
    if audit is not None:
        audit.caller = caller
    wait = _rate_limiter(request, runtime).wait(caller.key_id)
    if wait:
        raise RateLimited(f"key {caller.key_id} exceeded {runtime.settings.rate_limit_per_minute} "
                          "requests a minute", retry_after=max(1, math.ceil(wait)))
    return caller


async def _client_certificate(request: Request, runtime: Runtime, audit: RequestAudit | None,
                              caller: Caller) -> None:
    """A key bound to its access point's certificate works only over a connection with it."""
    bindings: Bindings | None = getattr(request.app.state, "certificate_bindings", None)
    if bindings is None:
        bindings = Bindings(runtime.sessions, runtime.settings.auth_cache_seconds)
        request.app.state.certificate_bindings = bindings
    try:
        await require_bound_certificate(bindings, request.scope, caller.key_id)
    except Unauthenticated:
        if audit is not None:
            audit.presented_key_id = caller.key_id
            audit.outcome["refused"] = MISMATCH
        count_failure(caller.member_state, caller.unit, MISMATCH)
        raise


def _rate_limiter(request: Request, runtime: Runtime) -> RateLimiter:
    limiter: RateLimiter | None = getattr(request.app.state, "rate_limiter", None)
    if limiter is None:
        limiter = RateLimiter(runtime.settings.rate_limit_per_minute)
        request.app.state.rate_limiter = limiter
    return limiter


CurrentCaller = Annotated[Caller, Depends(get_caller)]


async def authorize(request: Request, caller: CurrentCaller, runtime: RuntimeDep) -> Caller:
    """The role check of every non-public route, read from `service.auth.policy`."""
    route = request.scope.get("route")
    check(request.method, getattr(route, "path", ""), caller,
          synthetic_deployment=runtime.settings.synthetic_deployment)
    return caller


#: Given to every non-public router: the policy table decides who may call each route.
AUTHORIZED = Depends(authorize)
