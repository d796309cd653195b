"""Audit events: what each request did, as data. `RequestAudit` collects facts while a request is
handled; `event_body` turns them into the canonical record that is hashed into the chain.

Never put templates, names or other personal data in an event: probes appear only as a keyed
HMAC, client addresses only hashed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from service.auth.caller import Caller

AUDIT_RETENTION_YEARS = 1  # logs outlive the data they concern by one year (Art 41)


class Operation(StrEnum):
    TRANSMIT = "dataset:transmit"
    DATASET_READ = "dataset:read"
    AUDIT_QUERY = "audit:query"
    AUDIT_EXPORT = "audit:export"
    AUDIT_VERIFY = "audit:verify"
    AMEND = "dataset:amend"
    MARK = "dataset:mark"
    UNMARK = "dataset:unmark"
    EXTEND = "dataset:extend"
    ERASE = "dataset:erase"
    EXPIRE = "dataset:expire"
    FALSE_HIT = "hit:false"
    NOTIFICATIONS = "notification:read"
    ACKNOWLEDGE = "notification:ack"
    STATISTICS = "statistics:read"
    EVALUATION_SEARCH = "evaluation:search"
    BULK_LOAD = "dataset:bulk-load"
    SYSTEM_STATUS = "system:status"
    CONSOLE_SIGN_IN = "console:sign-in"
    CONSOLE_SIGN_OUT = "console:sign-out"
    THRESHOLDS = "matcher:thresholds"  # decision thresholds recalibrated (or computed by CLI)
    OTHER = "http:request"
    SECURITY_AUTH_FAILURES = "security:auth-failures"  # service.audit.security
    MASTER_KEY_ROTATION = "keys:rotate-master"  # service.cli.key_rotation
    AUDIT_KEY_ROTATION = "keys:rotate-audit"  # service.cli.key_rotation


_OPERATIONS = {
    ("POST", "/v1/transmissions"): Operation.TRANSMIT,
    ("GET", "/v1/datasets/{reference_number}"): Operation.DATASET_READ,
    ("GET", "/v1/audit/events"): Operation.AUDIT_QUERY,
    ("GET", "/v1/audit/datasets/{reference_number}"): Operation.AUDIT_QUERY,
    ("GET", "/v1/audit/export"): Operation.AUDIT_EXPORT,
    ("GET", "/v1/audit/verify"): Operation.AUDIT_VERIFY,
    ("PATCH", "/v1/datasets/{reference_number}"): Operation.AMEND,
    ("POST", "/v1/datasets/{reference_number}/mark"): Operation.MARK,
    ("DELETE", "/v1/datasets/{reference_number}/mark"): Operation.UNMARK,
    ("POST", "/v1/datasets/{reference_number}/extend"): Operation.EXTEND,
    ("DELETE", "/v1/datasets/{reference_number}"): Operation.ERASE,
    ("SYSTEM", "retention-sweep"): Operation.EXPIRE,
    ("SYSTEM", "threshold-calibration"): Operation.THRESHOLDS,
    ("POST", "/v1/hits/{hit_id}/false"): Operation.FALSE_HIT,
    ("GET", "/v1/notifications"): Operation.NOTIFICATIONS,
    ("POST", "/v1/notifications/{notification_id}/ack"): Operation.ACKNOWLEDGE,
    ("GET", "/v1/statistics"): Operation.STATISTICS,
    ("GET", "/v1/statistics/movements"): Operation.STATISTICS,
    ("GET", "/v1/audit/checkpoints/latest"): Operation.AUDIT_QUERY,
    ("GET", "/v1/system/status"): Operation.SYSTEM_STATUS,
    ("POST", "/v1/bulk/transmissions"): Operation.BULK_LOAD,
    ("POST", "/v1/evaluation/search"): Operation.EVALUATION_SEARCH,
    ("SYSTEM", "auth-failure-watch"): Operation.SECURITY_AUTH_FAILURES,
    ("SYSTEM", "master-key-rotation"): Operation.MASTER_KEY_ROTATION,
    ("SYSTEM", "audit-key-rotation"): Operation.AUDIT_KEY_ROTATION,
}
WATCH_ROUTE = "auth-failure-watch"  # service.audit.security


def operation_for(method: str, route: str) -> Operation:
    return _OPERATIONS.get((method, route), Operation.OTHER)


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
    operation: Operation | None = None  # named by the use case; else found from the route
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
    operation = audit.operation or operation_for(audit.method, audit.route)
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
