"""Abuse: per-key rate limits (429 + Retry-After, audited, counted) and a security event for
repeated authentication failures from one access point, which supervisors can query."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import started_service
from tests.service_process import RunningService

LIMIT = 30


@pytest.fixture(scope="module")
def service(database_url: str, data_dir: Path) -> Iterator[RunningService]:
    yield from started_service(database_url, data_dir, ABIS_RATE_LIMIT_PER_MINUTE=str(LIMIT),
                               ABIS_AUTH_FAILURE_THRESHOLD="5")


def _month() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m")


def test_a_key_over_its_rate_gets_429_with_retry_after_audited_and_counted(
    service: RunningService,
) -> None:
    with service.client("IT") as officer:
        answers = [officer.get("/v1/notifications") for _ in range(LIMIT + 5)]
    statuses = [answer.status_code for answer in answers]
    assert statuses[:LIMIT].count(200) >= LIMIT - 1  # the bucket refills a little meanwhile
    limited = [answer for answer in answers if answer.status_code == 429]
    assert limited, statuses
    refused = limited[0]
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"] == "/problems/rate-limited"
    assert int(refused.headers["retry-after"]) >= 1
    with service.client("EU", "supervisor") as supervisor:
        events = supervisor.get("/v1/audit/events", params={"limit": 1000}).json()["events"]
        mine = [e["event"] for e in events
                if e["event"]["request_id"] == refused.headers["x-request-id"]]
        assert len(mine) == 1 and mine[0]["status"] == 429
        assert mine[0]["problem"] == "rate-limited" and mine[0]["actor"]["member_state"] == "IT"
        report = supervisor.get("/v1/statistics", params={"month": _month()}).json()
    counted = {(row["member_state"], row["metric"]): row["count"]
               for row in report["failed_access"]}
    assert counted[("IT", "access_rate_limited")] == len(limited)


def test_repeated_authentication_failures_raise_a_security_event(
    service: RunningService,
) -> None:
    for attempt in range(6):
        answer = httpx.get(f"{service.url}/v1/notifications",
                           headers={"Authorization": f"Bearer abis_guess{attempt}_wrong"})
        assert answer.status_code == 401
    with service.client("EU", "supervisor") as supervisor:
        found = supervisor.get("/v1/audit/events",
                               params={"operation": "security:auth-failures"}).json()
        report = supervisor.get("/v1/statistics", params={"month": _month()}).json()
    alerts = [event["event"] for event in found["events"]]
    assert len(alerts) == 1  # once per window and address, however many more failures
    assert alerts[0]["outcome"]["failures"] >= 5 and alerts[0]["client_hash"]
    assert {"guess0", "guess4"} <= set(alerts[0]["outcome"]["presented_key_ids"])
    with service.client("EU", "supervisor") as supervisor:  # the chain still verifies
        assert supervisor.get("/v1/audit/verify").json()["ok"] is True
    counted = {(row["member_state"], row["metric"]): row["count"]
               for row in report["failed_access"]}
    assert counted[("--", "access_unauthenticated")] >= 6
