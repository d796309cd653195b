"""Audit and Integrity pages: views of GET /v1/audit/events, /datasets/{rn}, /export, /verify
and /checkpoints/latest, through the same use-case functions those routes call."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from schemas.codes import EU_LEVEL, MemberState
from service.api.deps import AuditDep, RuntimeDep
from service.audit.events import Operation
from service.audit.query import EventFilter, export_lines, latest_checkpoint, page, scoped
from service.audit.verify import verify_chain
from service.auth import Caller
from service.console import filters
from service.console.access import Page
from service.console.web import show
from service.errors import NotFound, NotReady
from service.runtime import Runtime

router = APIRouter(prefix="/console", include_in_schema=False)
_FILTER_FIELDS = ("since", "until", "member_state", "operation", "actor", "reference_number",
                  "limit")


def _query(request: Request) -> Mapping[str, str]:
    return dict(request.query_params)


def _public_key(runtime: Runtime) -> str:
    if runtime.audit is None:
        raise NotReady("the audit log is off in this process")
    return runtime.audit.keys.public_key_hex


def _links(query: Mapping[str, str], next_after: int | None) -> dict[str, str | None]:
    kept = {name: query[name] for name in _FILTER_FIELDS if query.get(name)}
    return {
        "first": "?" + urlencode(kept),
        "next": None if next_after is None else "?" + urlencode(kept | {"after": next_after}),
        "export": "/console/audit/export?" + urlencode(kept),
    }


def _audit_view(runtime: Runtime, caller: Caller, query: Mapping[str, str]
                ) -> tuple[str, dict[str, Any]]:
    wanted = scoped(caller, filters.event_filter(query))
    with runtime.sessions() as session:
        events, next_after = page(session, wanted)
    return "audit.html", {
        "events": events, "query": query, "links": _links(query, next_after),
        "member_states": [m.value for m in MemberState] if caller.member_state == EU_LEVEL
        else [caller.member_state],
        "operations": [op.value for op in Operation],
        "recent": _recent(runtime),
    }


def _recent(runtime: Runtime) -> list[tuple[str, str]]:
    """Shortcuts to the latest events (the log reads oldest first, as the API pages it)."""
    now = runtime.clock.now().replace(second=0, microsecond=0, tzinfo=None)
    spans = [("last hour", dt.timedelta(hours=1)), ("last 24 hours", dt.timedelta(days=1)),
             ("last 7 days", dt.timedelta(days=7))]
    return [(label, (now - span).isoformat(timespec="minutes")) for label, span in spans]


@router.get("/audit")
def audit_page(request: Request, runtime: RuntimeDep, audit: AuditDep) -> Response:
    """Audit events, filtered and paged (GET /v1/audit/events)."""
    query = _query(request)
    return show(request, runtime, audit, Page.AUDIT, Operation.AUDIT_QUERY,
                lambda caller: _audit_view(runtime, caller, query))


@router.get("/audit/events/{seq}")
def audit_event(seq: int, request: Request, runtime: RuntimeDep, audit: AuditDep) -> Response:
    """One event (GET /v1/audit/events?after=seq-1&limit=1)."""

    def build(caller: Caller) -> tuple[str, dict[str, Any]]:
        wanted = scoped(caller, EventFilter(after=max(seq - 1, 0), limit=1))
        with runtime.sessions() as session:
            events, _ = page(session, wanted)
        if not events or events[0].seq != seq:
            raise NotFound(f"no event {seq} that you may see")
        event = events[0]
        pretty = orjson.dumps(event.event, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
        return "event.html", {"event": event, "pretty": pretty.decode()}

    return show(request, runtime, audit, Page.AUDIT, Operation.AUDIT_QUERY, build)


@router.get("/audit/datasets/{reference_number}")
def dataset_history(reference_number: str, request: Request, runtime: RuntimeDep,
                    audit: AuditDep) -> Response:
    """Who touched this dataset (GET /v1/audit/datasets/{reference_number})."""
    query = dict(_query(request), reference_number=reference_number[:30])

    def build(caller: Caller) -> tuple[str, dict[str, Any]]:
        template, context = _audit_view(runtime, caller, query)
        return template, context | {"dataset": reference_number}

    return show(request, runtime, audit, Page.AUDIT, Operation.AUDIT_QUERY, build)


@router.get("/audit/export")
def audit_export(request: Request, runtime: RuntimeDep, audit: AuditDep) -> Response:
    """The filtered events as JSON Lines with the signed checkpoints (GET /v1/audit/export)."""
    query = _query(request)

    def build(caller: Caller) -> Response:
        wanted = replace(scoped(caller, filters.event_filter(query)), after=0)
        public_key = _public_key(runtime)

        def lines() -> Iterator[bytes]:
            with runtime.sessions() as session:
                yield from export_lines(session, wanted, public_key)

        stamp = runtime.clock.now().strftime("%Y%m%dT%H%M%SZ")
        return StreamingResponse(lines(), media_type="application/x-ndjson", headers={
            "content-disposition": f'attachment; filename="abis-audit-{stamp}.jsonl"'})

    return show(request, runtime, audit, Page.AUDIT, Operation.AUDIT_EXPORT, build)


def _checkpoint(runtime: Runtime, caller: Caller) -> dict[str, Any]:
    with runtime.sessions() as session:
        checkpoint = latest_checkpoint(session)
    age = None if checkpoint is None else runtime.clock.now() - checkpoint.at
    return {"checkpoint": checkpoint, "age": age, "public_key": _public_key(runtime)}


@router.get("/integrity")
def integrity_page(request: Request, runtime: RuntimeDep, audit: AuditDep) -> Response:
    """The last signed checkpoint and the key to check it (GET /v1/audit/checkpoints/latest)."""
    return show(request, runtime, audit, Page.INTEGRITY, Operation.AUDIT_QUERY,
                lambda caller: ("integrity.html", _checkpoint(runtime, caller)))


@router.get("/integrity/verify")
def integrity_verify(request: Request, runtime: RuntimeDep, audit: AuditDep) -> Response:
    """Verify the whole chain now (GET /v1/audit/verify)."""

    def build(caller: Caller) -> tuple[str, dict[str, Any]]:
        context = _checkpoint(runtime, caller)  # checks the caller is a supervisor first
        assert runtime.audit is not None
        started = dt.datetime.now(dt.UTC)
        with runtime.sessions() as session:
            result = verify_chain(session, runtime.audit.keys.trusted_public_keys)
        took = (dt.datetime.now(dt.UTC) - started).total_seconds()
        return "integrity.html", context | {"result": result, "took": took}

    return show(request, runtime, audit, Page.INTEGRITY, Operation.AUDIT_VERIFY, build)
