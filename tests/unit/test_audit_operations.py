"""Audit operation names are stated where each action is declared, never derived from a route.

Every existing audit log holds these names: a change to one must be a decision (old logs keep
verifying, but queries by operation would miss the old events), not the side effect of
renaming a route. The names are pinned here, and so is the one each POLICY row states.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from service.audit.events import RequestAudit, finish
from service.auth.policy import POLICY, Access, operation_for
from service.operations import Operation

PINNED_NAMES = {
    "TRANSMIT": "dataset:transmit",
    "DATASET_READ": "dataset:read",
    "AUDIT_QUERY": "audit:query",
    "AUDIT_EXPORT": "audit:export",
    "AUDIT_VERIFY": "audit:verify",
    "AMEND": "dataset:amend",
    "MARK": "dataset:mark",
    "UNMARK": "dataset:unmark",
    "EXTEND": "dataset:extend",
    "ERASE": "dataset:erase",
    "EXPIRE": "dataset:expire",
    "FALSE_HIT": "hit:false",
    "NOTIFICATIONS": "notification:read",
    "ACKNOWLEDGE": "notification:ack",
    "STATISTICS": "statistics:read",
    "EVALUATION_SEARCH": "evaluation:search",
    "BULK_LOAD": "dataset:bulk-load",
    "SYSTEM_STATUS": "system:status",
    "CONSOLE_SIGN_IN": "console:sign-in",
    "CONSOLE_SIGN_OUT": "console:sign-out",
    "THRESHOLDS": "matcher:thresholds",
    "OTHER": "http:request",
    "SECURITY_AUTH_FAILURES": "security:auth-failures",
    "MASTER_KEY_ROTATION": "keys:rotate-master",
    "AUDIT_KEY_ROTATION": "keys:rotate-audit",
}

# What each route's requests have always been recorded as (before the rows named it).
PINNED_ROUTES = {
    ("POST", "/v1/transmissions"): "dataset:transmit",
    ("GET", "/v1/datasets/{reference_number}"): "dataset:read",
    ("PATCH", "/v1/datasets/{reference_number}"): "dataset:amend",
    ("DELETE", "/v1/datasets/{reference_number}"): "dataset:erase",
    ("POST", "/v1/datasets/{reference_number}/mark"): "dataset:mark",
    ("DELETE", "/v1/datasets/{reference_number}/mark"): "dataset:unmark",
    ("POST", "/v1/datasets/{reference_number}/extend"): "dataset:extend",
    ("POST", "/v1/hits/{hit_id}/false"): "hit:false",
    ("GET", "/v1/notifications"): "notification:read",
    ("POST", "/v1/notifications/{notification_id}/ack"): "notification:ack",
    ("GET", "/v1/statistics"): "statistics:read",
    ("GET", "/v1/audit/events"): "audit:query",
    ("GET", "/v1/audit/datasets/{reference_number}"): "audit:query",
    ("GET", "/v1/audit/export"): "audit:export",
    ("GET", "/v1/audit/verify"): "audit:verify",
    ("GET", "/v1/audit/checkpoints/latest"): "audit:query",
    ("GET", "/v1/statistics/movements"): "statistics:read",
    ("GET", "/v1/system/status"): "system:status",
    ("GET", "/metrics"): "http:request",
    ("POST", "/v1/bulk/transmissions"): "dataset:bulk-load",
    ("POST", "/v1/evaluation/search"): "evaluation:search",
    ("GET", "/healthz"): "http:request",
    ("GET", "/readyz"): "http:request",
    ("GET", "/problems/{slug}"): "http:request",
    ("GET", "/openapi.json"): "http:request",
    ("GET", "/docs"): "http:request",
    ("GET", "/redoc"): "http:request",
}

AT = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def test_the_operation_names_are_the_pinned_ones() -> None:
    assert {operation.name: operation.value for operation in Operation} == PINNED_NAMES


def test_every_policy_row_states_its_operation() -> None:
    assert all(isinstance(access.operation, Operation) for access in POLICY)
    with pytest.raises(TypeError, match="operation"):
        Access("GET", "/v1/new", None, POLICY[0].reach, "a row that names no operation")  # type: ignore[call-arg]


def test_each_route_keeps_the_operation_it_always_had() -> None:
    assert {(access.method, access.path): access.operation.value
            for access in POLICY} == PINNED_ROUTES


@pytest.mark.parametrize("access", POLICY, ids=lambda access: access.route)
def test_renaming_a_route_cannot_rename_its_events(access: Access) -> None:
    renamed = dataclasses.replace(access, path="/v9/renamed" + access.path)
    named = RequestAudit("r1", access.method, None, route=renamed.path,
                         operation=renamed.operation)
    assert finish(named, 200, AT).operation == access.operation.value
    assert operation_for(access.method, access.path) is access.operation


def test_an_event_is_never_named_after_its_route_string() -> None:
    """Unnamed, a request on a known route is `http:request`: the route string names nothing."""
    unnamed = RequestAudit("r1", "POST", None, route="/v1/transmissions")
    assert finish(unnamed, 200, AT).operation == Operation.OTHER.value
    assert operation_for("HEAD", "/v1/statistics") is Operation.OTHER  # as before: exact method
