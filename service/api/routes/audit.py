"""The audit log, for supervisors only (officers and operators get 403)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from pydantic import BeforeValidator

from schemas.audit import AuditEventPage, AuditVerification
from schemas.problem import Problem
from schemas.transmission import REFERENCE_NUMBER_PATTERN
from service.api.deps import (
    AUTHORIZED,
    ROW_ID_MAX,
    AuditDep,
    CurrentCaller,
    ReferenceNumberPath,
    RuntimeDep,
)
from service.audit.events import RequestAudit
from service.audit.query import EventFilter, export_lines, page, scoped
from service.audit.verify import verify_chain
from service.errors import NotReady
from service.runtime import Runtime

router = APIRouter(prefix="/v1/audit", tags=["audit"], dependencies=[AUTHORIZED],
                   responses={401: {"model": Problem}, 403: {"model": Problem}})


def _iso_8601(value: object) -> object:
    # pydantic would read "0.5" as a Unix time: a typo must not become 1970.
    if isinstance(value, str) and not re.match(r"^\d{4}-\d{2}-\d{2}", value):
        raise ValueError("an ISO 8601 date-time is expected, e.g. 2026-06-12T00:00:00Z")
    return value


IsoDateTime = Annotated[dt.datetime, BeforeValidator(_iso_8601)]


def _filter(
    member_state: Annotated[str | None, Query(pattern=r"^[A-Z]{2}$")] = None,
    since: Annotated[IsoDateTime | None, Query()] = None,
    until: Annotated[IsoDateTime | None, Query()] = None,
    operation: Annotated[str | None, Query(max_length=40)] = None,
    reference_number: Annotated[str | None, Query(pattern=REFERENCE_NUMBER_PATTERN,
                                                  max_length=30)] = None,
    actor: Annotated[str | None, Query(max_length=24, description="key id")] = None,
    after: Annotated[int, Query(ge=0, le=ROW_ID_MAX,
                                description="last seq of the previous page")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> EventFilter:
    return EventFilter(member_state, since, until, operation, reference_number, actor, after,
                       limit)


def _oversight(audit: RequestAudit | None) -> None:
    if audit is not None:
        audit.purpose = "oversight (Art 41)"


def _trail(runtime: Runtime) -> str:
    if runtime.audit is None:
        raise NotReady("the audit log is off in this process")
    return runtime.audit.keys.public_key_hex


FilterDep = Annotated[EventFilter, Depends(_filter)]


@router.get("/events", response_model=AuditEventPage)
def list_events(
    caller: CurrentCaller, runtime: RuntimeDep, audit: AuditDep, wanted: FilterDep
) -> AuditEventPage:
    """Query audit events (filters by Member State, time, operation, reference number, actor)."""
    _oversight(audit)
    with runtime.sessions() as session:
        events, next_after = page(session, scoped(caller, wanted))
    return AuditEventPage(events=events, next_after=next_after)


@router.get("/datasets/{reference_number}", response_model=AuditEventPage)
def dataset_history(
    reference_number: ReferenceNumberPath,
    caller: CurrentCaller,
    runtime: RuntimeDep,
    audit: AuditDep,
    after: Annotated[int, Query(ge=0, le=ROW_ID_MAX)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AuditEventPage:
    """Who touched this dataset: every event concerning the reference number."""
    _oversight(audit)
    wanted = scoped(caller, EventFilter(reference_number=reference_number, after=after,
                                        limit=limit))
    with runtime.sessions() as session:
        events, next_after = page(session, wanted)
    return AuditEventPage(events=events, next_after=next_after)


@router.get("/export", response_class=StreamingResponse,
            responses={200: {"content": {"application/x-ndjson": {}}}})
def export(
    caller: CurrentCaller, runtime: RuntimeDep, audit: AuditDep, wanted: FilterDep
) -> StreamingResponse:
    """Export matching events as JSON Lines, followed by the signed checkpoints."""
    _oversight(audit)
    wanted = scoped(caller, wanted)
    public_key = _trail(runtime)

    def lines() -> Iterator[bytes]:
        with runtime.sessions() as session:
            yield from export_lines(session, wanted, public_key)

    return StreamingResponse(lines(), media_type="application/x-ndjson")


@router.get("/verify", response_model=AuditVerification)
def verify(caller: CurrentCaller, runtime: RuntimeDep, audit: AuditDep) -> AuditVerification:
    """Verify the whole chain and its signed checkpoints; names the first bad event."""
    _oversight(audit)
    public_key = _trail(runtime)
    assert runtime.audit is not None
    with runtime.sessions() as session:
        result = verify_chain(session, runtime.audit.keys.trusted_public_keys)
    return AuditVerification(
        ok=result.ok,
        events_checked=result.events_checked,
        checkpoints_checked=result.checkpoints_checked,
        last_seq=result.last_seq,
        first_bad_seq=result.first_bad_seq,
        problem=result.problem,
        public_key=public_key,
    )
