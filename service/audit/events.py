"""Audit events: what each request did, as data. `RequestAudit` collects facts while a request is
handled; `event_body` turns them into the canonical record that is hashed into the chain.

Never put templates, names or other personal data in an event: probes appear only as a keyed
HMAC, client addresses only hashed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from service.auth.caller import Caller
from service.operations import Operation as Operation  # re-exported: its old home

AUDIT_RETENTION_YEARS = 1  # logs outlive the data they concern by one year (Art 41)

WATCH_ROUTE = "auth-failure-watch"  # service.audit.security


@dataclass
class RequestAudit:
    """Facts about one request, gathered by the middleware, the auth dependency and use cases."""

    request_id: str
    method: str
    client_hash: str | None
    route: str = "unmatched"
    caller: Caller | None = None
    presented_key_id: str | None = None
    user_id: str | None = None
    purpose: str | None = None
    reference_numbers: list[str] = field(default_factory=list)
    member_states: set[str] = field(default_factory=set)
    outcome: dict[str, Any] = field(default_factory=dict)
    probe_hmac: str | None = None
    problem: str | None = None
    keep_until: dt.date | None = None  # latest retention end of the data concerned
    # Named where the action is declared: the route's POLICY row (set once routing is done),
    # the use case, or the system task. Never derived from the route string: a renamed route
    # keeps its events' name. Unnamed: `http:request` (Operation.OTHER).
    operation: Operation | None = None
    written: bool = False  # the event is committed: the middleware must not write another

    def concern(self, reference_number: str, member_state: str, retention: dt.date | None) -> None:
        """The request touched this dataset: remember it for the views and for the purge date."""
        if reference_number not in self.reference_numbers:
            self.reference_numbers.append(reference_number)
        self.member_states.add(member_state)
        if retention is not None and (self.keep_until is None or retention > self.keep_until):
            self.keep_until = retention


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """A finished event, ready to be chained."""

    at: dt.datetime
    body: dict[str, Any]
    operation: str
    actor_member_state: str | None
    actor_key_id: str | None
    reference_numbers: tuple[str, ...]
    member_states: tuple[str, ...]
    purge_after: dt.date


def purge_date(at: dt.datetime, keep_until: dt.date | None) -> dt.date:
    from service.rules.dates import add_years

    base = max(at.date(), keep_until) if keep_until else at.date()
    return add_years(base, AUDIT_RETENTION_YEARS)


def finish(audit: RequestAudit, status: int, at: dt.datetime) -> AuditEvent:
    """The event for a request answered with `status`."""
    caller = audit.caller
    member_states = set(audit.member_states)
    if caller is not None:
        member_states.add(caller.member_state)
    operation = audit.operation or Operation.OTHER
    body: dict[str, Any] = {
        "at": at.isoformat(),
        "request_id": audit.request_id,
        "operation": operation.value,
        "method": audit.method,
        "route": audit.route,
        "status": status,
        "actor": None
        if caller is None
        else {
            "member_state": caller.member_state,
            "unit": caller.unit,
            "role": caller.role.value,
            "key_id": caller.key_id,
            "user_id": audit.user_id,
        },
        "presented_key_id": audit.presented_key_id,
        "purpose": audit.purpose,
        "reference_numbers": list(audit.reference_numbers),
        "member_states": sorted(member_states),
        "outcome": audit.outcome,
        "problem": audit.problem,
        "probe_hmac": audit.probe_hmac,
        "client_hash": audit.client_hash,
    }
    return AuditEvent(
        at=at,
        body=body,
        operation=operation.value,
        actor_member_state=None if caller is None else caller.member_state,
        actor_key_id=None if caller is None else caller.key_id,
        reference_numbers=tuple(audit.reference_numbers),
        member_states=tuple(sorted(member_states)),
        purge_after=purge_date(at, audit.keep_until),
    )
