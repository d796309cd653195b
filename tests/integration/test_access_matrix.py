"""The whole access table walked against a running service: every role, national and EU-level
keys, own and another Member State's data; each cell answers as `service.auth.policy` says.

A route in the table without a request below fails `test_every_route_has_a_request`: when you
add a route, add its row to POLICY and its own/other requests here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest

from schemas.codes import EU_LEVEL, Role
from service.auth.policy import POLICY, Access, Reach
from tests.factories import new_person_seed, transmission
from tests.service_process import RunningService

OWN, OTHER = "IT", "DE"


@dataclass(frozen=True)
class World:
    """Data of both Member States: datasets linked by hits, and notifications each way."""

    own_ref: str
    own_erasable: str
    other_ref: str
    own_hit: int
    other_hit: int
    own_notification: int
    other_notification: int


def _sent(client: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    answer = client.post("/v1/transmissions", json=body)
    assert answer.status_code in (200, 201), answer.text
    result: dict[str, Any] = answer.json()
    return result


def _newest_notification(client: httpx.Client) -> int:
    notifications = client.get("/v1/notifications").json()["notifications"]
    return int(notifications[-1]["id"])


@pytest.fixture(scope="module")
def world(service: RunningService) -> World:
    person = new_person_seed()
    with service.client(OWN) as own, service.client(OTHER) as other:
        other_ref = _sent(other, transmission(OTHER, 2, person=person))["reference_number"]
        mine = _sent(own, transmission(OWN, 1, person=person, capture=2))
        theirs = _sent(other, transmission(OTHER, 3, person=person, capture=3))
        erasable = _sent(own, transmission(OWN, 2, person=new_person_seed()))
        for client, reference in ((own, mine["reference_number"]), (other, other_ref)):
            flagged = client.patch(f"/v1/datasets/{reference}", json={"security_flag": True})
            assert flagged.status_code == 200, flagged.text
        return World(mine["reference_number"], erasable["reference_number"], other_ref,
                     mine["hits"][0]["hit_id"], theirs["hits"][0]["hit_id"],
                     _newest_notification(own), _newest_notification(other))


@dataclass(frozen=True)
class Probe:
    method: str
    path: str
    params: dict[str, str] | None = None
    json: object = None
    content: bytes | None = None


Build = Callable[[World, Role], Probe]
MONTH = dt.datetime.now(dt.UTC).strftime("%Y-%m")


def _transmission(world: World, role: Role) -> Probe:
    if role is Role.LAW_ENFORCEMENT:
        body = transmission(OWN, 4, person=new_person_seed(), purpose="case", case_number="C-1")
    else:
        body = transmission(OWN, 1, person=new_person_seed())
    return Probe("POST", "/v1/transmissions", json=body)


def _ds(reference: str, suffix: str = "") -> str:
    return f"/v1/datasets/{reference}{suffix}"


# Per route: the request on the caller's own Member State's data, and the statuses allowed
# callers get; then the same request on another Member State's data (reach OWN and
# NATIONAL_OWN_EU_ALL routes).
OWN_REQUESTS: dict[str, tuple[Build, set[int]]] = {
    "POST /v1/transmissions": (_transmission, {200, 201}),
    "GET /v1/datasets/{reference_number}": (lambda w, r: Probe("GET", _ds(w.own_ref)), {200}),
    "PATCH /v1/datasets/{reference_number}": (
        lambda w, r: Probe("PATCH", _ds(w.own_ref), json={"security_flag": True}), {200}),
    "DELETE /v1/datasets/{reference_number}": (
        lambda w, r: Probe("DELETE", _ds(w.own_erasable), {"reason": "citizenship"}), {200}),
    "POST /v1/datasets/{reference_number}/mark": (
        lambda w, r: Probe("POST", _ds(w.own_ref, "/mark"),
                           json={"reason": "international_protection"}), {200}),
    "DELETE /v1/datasets/{reference_number}/mark": (
        lambda w, r: Probe("DELETE", _ds(w.own_ref, "/mark")), {200}),
    "POST /v1/datasets/{reference_number}/extend": (  # category 1 is not extended: a rule
        lambda w, r: Probe("POST", _ds(w.own_ref, "/extend")), {422}),
    "POST /v1/hits/{hit_id}/false": (
        lambda w, r: Probe("POST", f"/v1/hits/{w.own_hit}/false", json={}), {200}),
    "GET /v1/notifications": (lambda w, r: Probe("GET", "/v1/notifications"), {200}),
    "POST /v1/notifications/{notification_id}/ack": (
        lambda w, r: Probe("POST", f"/v1/notifications/{w.own_notification}/ack"), {200}),
    "GET /v1/statistics": (lambda w, r: Probe("GET", "/v1/statistics", {"month": MONTH}), {200}),
    "GET /v1/audit/events": (
        lambda w, r: Probe("GET", "/v1/audit/events", {"member_state": OWN}), {200}),
    "GET /v1/audit/datasets/{reference_number}": (
        lambda w, r: Probe("GET", f"/v1/audit/datasets/{w.own_ref}"), {200}),
    "GET /v1/audit/export": (
        lambda w, r: Probe("GET", "/v1/audit/export", {"member_state": OWN}), {200}),
    "GET /v1/audit/verify": (lambda w, r: Probe("GET", "/v1/audit/verify"), {200}),
    # No checkpoint may be signed yet in a fresh service: 404 is the route's own answer then.
    "GET /v1/audit/checkpoints/latest": (
        lambda w, r: Probe("GET", "/v1/audit/checkpoints/latest"), {200, 404}),
    "GET /v1/statistics/movements": (lambda w, r: Probe(
        "GET", "/v1/statistics/movements",
        {"since": f"{MONTH}-01", "until": (dt.date.fromisoformat(f"{MONTH}-01")
                                           + dt.timedelta(days=40)).isoformat()}), {200}),
    "GET /v1/system/status": (lambda w, r: Probe("GET", "/v1/system/status"), {200}),
    "GET /metrics": (lambda w, r: Probe("GET", "/metrics"), {200}),
    "POST /v1/bulk/transmissions": (
        lambda w, r: Probe("POST", "/v1/bulk/transmissions", content=b""), {200}),
    "POST /v1/evaluation/search": (
        lambda w, r: Probe("POST", "/v1/evaluation/search", json={"probes": []}), {422}),
    "GET /healthz": (lambda w, r: Probe("GET", "/healthz"), {200}),
    "GET /readyz": (lambda w, r: Probe("GET", "/readyz"), {200}),
    "GET /problems/{slug}": (lambda w, r: Probe("GET", "/problems/not-found"), {200}),
    "GET /openapi.json": (lambda w, r: Probe("GET", "/openapi.json"), {200}),
    "GET /docs": (lambda w, r: Probe("GET", "/docs"), {200}),
    "GET /redoc": (lambda w, r: Probe("GET", "/redoc"), {200}),
}

OTHER_REQUESTS: dict[str, Build] = {
    "GET /v1/datasets/{reference_number}": lambda w, r: Probe("GET", _ds(w.other_ref)),
    "PATCH /v1/datasets/{reference_number}": lambda w, r: Probe(
        "PATCH", _ds(w.other_ref), json={"security_flag": False}),
    "DELETE /v1/datasets/{reference_number}": lambda w, r: Probe(
        "DELETE", _ds(w.other_ref), {"reason": "citizenship"}),
    "POST /v1/datasets/{reference_number}/mark": lambda w, r: Probe(
        "POST", _ds(w.other_ref, "/mark"), json={"reason": "residence_document"}),
    "DELETE /v1/datasets/{reference_number}/mark": lambda w, r: Probe(
        "DELETE", _ds(w.other_ref, "/mark")),
    "POST /v1/datasets/{reference_number}/extend": lambda w, r: Probe(
        "POST", _ds(w.other_ref, "/extend")),
    "POST /v1/hits/{hit_id}/false": lambda w, r: Probe(
        "POST", f"/v1/hits/{w.other_hit}/false", json={}),
    "GET /v1/notifications": lambda w, r: Probe("GET", "/v1/notifications"),
    "POST /v1/notifications/{notification_id}/ack": lambda w, r: Probe(
        "POST", f"/v1/notifications/{w.other_notification}/ack"),
    "GET /v1/audit/events": lambda w, r: Probe("GET", "/v1/audit/events",
                                               {"member_state": OTHER}),
    "GET /v1/audit/datasets/{reference_number}": lambda w, r: Probe(
        "GET", f"/v1/audit/datasets/{w.other_ref}"),
    "GET /v1/audit/export": lambda w, r: Probe("GET", "/v1/audit/export",
                                               {"member_state": OTHER}),
    "POST /v1/bulk/transmissions": lambda w, r: Probe(
        "POST", "/v1/bulk/transmissions", content=orjson.dumps({
            "member_state": OTHER,
            "transmission": transmission(OTHER, 2, person=new_person_seed())}) + b"\n"),
}

#: Every caller of the matrix: each role with a national key, and the EU-level keys.
CALLERS = [(OWN, role) for role in Role] + [
    (EU_LEVEL, role) for role in (Role.SUPERVISOR, Role.OPERATOR, Role.ADMIN)]


def test_every_route_has_a_request() -> None:
    routes = {access.route for access in POLICY}
    assert routes == set(OWN_REQUESTS), (
        f"add own requests for {routes - set(OWN_REQUESTS)}; "
        f"drop {set(OWN_REQUESTS) - routes}")
    scoped = {access.route for access in POLICY
              if access.reach in (Reach.OWN, Reach.NATIONAL_OWN_EU_ALL)}
    assert scoped == set(OTHER_REQUESTS), f"other-state requests: {scoped ^ set(OTHER_REQUESTS)}"


def _send(client: httpx.Client, probe: Probe) -> httpx.Response:
    return client.request(probe.method, probe.path, params=probe.params, json=probe.json,
                          content=probe.content,
                          headers={"content-type": "application/x-ndjson"}
                          if probe.content is not None else None)


def _own_expectation(access: Access, role: Role, member_state: str, allowed: set[int]
                     ) -> set[int]:
    if access.public:
        return allowed
    assert access.roles is not None
    if role not in access.roles:
        return {403}
    if access.reach is Reach.EVALUATION:
        return {403}  # this is a production-mode service: no synthetic deployment
    return allowed


def _check_other(access: Access, member_state: str, answer: httpx.Response,
                 own_client: httpx.Client) -> None:
    cell = f"{access.route} as {member_state}: {answer.status_code} {answer.text[:200]}"
    if access.reach is Reach.OWN:
        if access.route == "GET /v1/notifications":  # the feed itself: only own notifications
            assert answer.status_code == 200, cell
            for notification in answer.json()["notifications"]:
                assert all(ref.startswith(OWN)
                           for ref in notification["your_reference_numbers"]), cell
            return
        assert answer.status_code == 404, cell
        assert answer.json()["type"] == "/problems/not-found", cell
        return
    national = member_state != EU_LEVEL
    if access.route == "POST /v1/bulk/transmissions":
        assert answer.status_code == 200, cell
        item = orjson.loads(answer.content.splitlines()[0])
        refused = item.get("problem", {}).get("type") == "/problems/forbidden"
        assert refused == national, cell
    elif access.route == "GET /v1/audit/datasets/{reference_number}":
        assert answer.status_code == 200, cell
        if national:  # only events that involve its own Member State
            own_events = own_client.get("/v1/audit/events",
                                        params={"member_state": OWN, "limit": 1000}).json()
            visible = {event["seq"] for event in own_events["events"]}
            assert {event["seq"] for event in answer.json()["events"]} <= visible, cell
    else:
        assert answer.status_code == (403 if national else 200), cell


def test_every_cell_answers_as_the_table_says(service: RunningService, world: World) -> None:
    failures: list[str] = []
    for access in POLICY:
        build, allowed = OWN_REQUESTS[access.route]
        if access.public:  # no key at all
            with httpx.Client(base_url=service.url, timeout=30) as anonymous:
                answer = _send(anonymous, build(world, Role.OFFICER))
            if answer.status_code not in allowed:
                failures.append(f"{access.route} without a key: {answer.status_code}")
            continue
        for member_state, role in CALLERS:
            with service.client(member_state, role.value) as client:
                probe = build(world, role)
                answer = _send(client, probe)
                expected = _own_expectation(access, role, member_state, allowed)
                if answer.status_code not in expected:
                    failures.append(f"{access.route} as {member_state} {role.value}: "
                                    f"{answer.status_code} not in {expected}: "
                                    f"{answer.text[:160]}")
                    continue
                if answer.status_code >= 400:
                    assert answer.headers["content-type"] == "application/problem+json"
                other = OTHER_REQUESTS.get(access.route)
                if other is None or answer.status_code == 403:
                    continue
                try:
                    _check_other(access, member_state, _send(client, other(world, role)),
                                 client)
                except AssertionError as error:
                    failures.append(str(error))
    assert not failures, "\n".join(failures)


def test_no_key_and_a_bad_key_get_401_on_every_keyed_route(
    service: RunningService, world: World
) -> None:
    for access in POLICY:
        if access.public:
            continue
        probe = OWN_REQUESTS[access.route][0](world, Role.OFFICER)
        for headers in ({}, {"Authorization": "Bearer abis_nope_nope"}):
            with httpx.Client(base_url=service.url, headers=headers, timeout=30) as client:
                answer = _send(client, probe)
            assert answer.status_code == 401, (access.route, answer.text)
            assert answer.headers["www-authenticate"] == "Bearer"
