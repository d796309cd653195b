"""Hostile and careless input on a real server: a 4xx problem every time, never a 5xx; one audit
event per request, refused ones included; the connection stays usable."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import uvicorn

from schemas.codes import Role
from service.api.app import create_app
from service.auth import issue_key
from service.runtime import Runtime
from service.settings import Settings
from tests.factories import new_person_seed, raw_vector, transmission
from tests.service_process import RunningService, free_port

PROBLEM = "application/problem+json"
HUGE = str(2**64 + 7)


def _problem(answer: httpx.Response, status: int, slug: str | None = None) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM
    body: dict[str, Any] = answer.json()
    if slug is not None:
        assert body["type"] == f"/problems/{slug}", body
    return body


def _events_of(service: RunningService, request_ids: set[str]) -> dict[str, int]:
    """How many audit events each request left (an EU supervisor pages through the log)."""
    counts = dict.fromkeys(request_ids, 0)
    with service.client("EU", "supervisor") as supervisor:
        after = 0
        while True:
            page = supervisor.get("/v1/audit/events", params={"after": after, "limit": 1000})
            assert page.status_code == 200, page.text
            for event in page.json()["events"]:
                if event["event"] and event["event"]["request_id"] in counts:
                    counts[event["event"]["request_id"]] += 1
            if page.json()["next_after"] is None:
                return counts
            after = page.json()["next_after"]


def test_huge_integers_are_422_audited_and_the_connection_survives(
    service: RunningService,
) -> None:
    requests = [
        ("POST", f"/v1/notifications/{HUGE}/ack", None, "officer"),
        ("POST", f"/v1/hits/{HUGE}/false", {}, "officer"),
        ("POST", "/v1/hits/-1/false", {}, "officer"),
        ("GET", f"/v1/audit/events?after={HUGE}", None, "supervisor"),
        ("GET", f"/v1/audit/events?limit={HUGE}", None, "supervisor"),
        ("GET", f"/v1/audit/datasets/IT1ABC?after={HUGE}", None, "supervisor"),
        ("GET", f"/v1/notifications?limit={HUGE}", None, "officer"),
    ]
    seen: set[str] = set()
    for method, path, body, role in requests:
        with service.client("IT", role) as client:  # one connection for both requests
            answer = client.request(method, path, json=body)
            _problem(answer, 422, "validation")
            seen.add(answer.headers["x-request-id"])
            after = client.get("/v1/notifications" if role == "officer" else "/v1/audit/verify")
            assert after.status_code == 200, after.text  # the same connection still works
            seen.add(after.headers["x-request-id"])
    assert set(_events_of(service, seen).values()) == {1}


def _constant(value: float, dim: int = 128) -> str:
    return raw_vector(np.full(dim, value, dtype=np.float32))


@pytest.mark.parametrize(("vector", "problem"), [
    pytest.param(_constant(1e20), "norm_too_large", id="all-1e20"),
    pytest.param(_constant(3e38), "norm_too_large", id="all-3e38"),
    pytest.param(_constant(0.05), "no_information", id="constant"),
    pytest.param(raw_vector(np.r_[np.full(127, 0.08), 0.09]), "no_information",
                 id="near-constant"),
    pytest.param(raw_vector(np.random.default_rng(1).standard_normal(128) * 5),
                 "norm_too_large", id="norm-57"),
])
def test_absurd_templates_are_refused_with_a_clear_problem(
    service: RunningService, vector: str, problem: str
) -> None:
    body = transmission("DE", 2, person=new_person_seed())
    body["biometrics"] = {"fingers": {"1": vector, "2": vector}}
    with service.client("DE") as germany:
        refused = _problem(germany.post("/v1/transmissions", json=body), 422, "invalid-template")
        assert problem in refused["detail"]
        assert germany.get(f"/v1/datasets/{body['reference_number']}").status_code == 404


@pytest.mark.parametrize("category", [True, "2", 2.0, "x"])
def test_categories_are_strict_integers(service: RunningService, category: object) -> None:
    body = transmission("DE", 2, person=new_person_seed())
    body["category"] = category
    with service.client("DE") as germany:
        problem = _problem(germany.post("/v1/transmissions", json=body), 422, "validation")
        assert problem["errors"][0]["loc"] == ["body", "category"]


@pytest.mark.parametrize("field", ["urgent", "compare_own_data"])
def test_flags_are_strict_booleans(service: RunningService, field: str) -> None:
    body = transmission("DE", 2, person=new_person_seed(), **{field: "yes"})
    with service.client("DE") as germany:
        _problem(germany.post("/v1/transmissions", json=body), 422, "validation")


def test_a_date_of_birth_in_1800_is_refused(service: RunningService) -> None:
    body = transmission("DE", 2, person=new_person_seed())
    body["person"]["date_of_birth"] = "1800-01-01"
    with service.client("DE") as germany:
        problem = _problem(germany.post("/v1/transmissions", json=body), 422, "rule-violation")
        assert "plausible" in problem["detail"]


def test_blank_purpose_is_refused(service: RunningService) -> None:
    body = transmission("DE", 4, person=new_person_seed(), purpose="   ", case_number="K-1")
    with service.client("DE", "law_enforcement") as police:
        _problem(police.post("/v1/transmissions", json=body), 422, "validation")


def test_validation_never_echoes_made_up_names_or_values(service: RunningService) -> None:
    body = transmission("DE", 2, person=new_person_seed())
    body["Mysterious_Field_Qx"] = "Hidden-Value-Zz"
    body["person"]["Another_Secret_Key"] = 1
    body["biometrics"]["fingers"]["Evil_Finger_Key"] = body["biometrics"]["fingers"]["1"]
    with service.client("DE") as germany:
        for answer in (germany.post("/v1/transmissions", json=body),
                       germany.post("/v1/transmissions", json={
                           **transmission("DE", 2, person=new_person_seed()),
                           "biometrics": {"fingers": {"Evil_Finger_Key": "AAAA"}}})):
            assert answer.status_code == 422
            for secret in ("Mysterious", "Hidden-Value", "Another_Secret", "Evil_Finger"):
                assert secret not in answer.text, answer.text


def test_unsupported_methods_are_405_with_allow(service: RunningService) -> None:
    with service.client("DE") as germany:
        for method in ("TRACE", "PUT", "OPTIONS"):
            answer = germany.request(method, "/v1/transmissions")
            _problem(answer, 405)
            assert answer.headers["allow"] == "POST"
        answer = germany.request("TRACE", "/v1/datasets/DE1ABC")
        _problem(answer, 405)
        assert set(answer.headers["allow"].split(", ")) == {"GET", "PATCH", "DELETE"}


# An unexpected error (a bug) is still answered inside the audit: a server in this process,
# with one route that fails, proves it for any route that might.
@pytest.fixture
def failing_server(tmp_path: Path) -> Iterator[tuple[str, str, Runtime]]:
    settings = Settings(dev=True, data_dir=tmp_path, snapshot=False)
    runtime = Runtime.build(settings)
    app = create_app(settings, runtime)

    async def broken() -> None:
        raise RuntimeError("a bug with personal data: Verysecretname")

    app.add_api_route("/v1/broken", broken, methods=["GET"])
    with runtime.sessions.begin() as session:
        key = issue_key(session, member_state="EU", role=Role.SUPERVISOR,
                        now=dt.datetime.now(dt.UTC)).key
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}", key, runtime
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def test_an_unexpected_error_is_a_500_problem_audited_on_a_live_connection(
    failing_server: tuple[str, str, Runtime],
) -> None:
    url, key, _ = failing_server
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"},
                      timeout=30) as client:
        answer = client.get("/v1/broken")
        body = _problem(answer, 500, "internal")
        assert "Verysecretname" not in answer.text and body["detail"]
        request_id = answer.headers["x-request-id"]
        events = client.get("/v1/audit/events", params={"limit": 1000})  # same connection
        assert events.status_code == 200, events.text
        mine = [e["event"] for e in events.json()["events"]
                if e["event"]["request_id"] == request_id]
        assert len(mine) == 1 and mine[0]["status"] == 500 and mine[0]["problem"] == "internal"
