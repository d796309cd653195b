"""Every request leaves exactly one audit event, and supervisors (only) can read and verify."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.factories import new_person_seed, transmission
from tests.service_process import RunningService, cli

NAME = "Qwertyuiopname"


@pytest.fixture(scope="module")
def events(database_url: str) -> Iterator[object]:
    engine = create_engine(database_url)

    def since(seq: int) -> list[dict[str, object]]:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT seq, body FROM audit_events WHERE seq > :s ORDER BY seq"), {"s": seq}
            ).all()
        return [dict(json.loads(body), seq=seq) for seq, body in rows]

    yield since
    engine.dispose()


def _last_seq(events) -> int:  # type: ignore[no-untyped-def]
    found = events(0)
    return int(found[-1]["seq"]) if found else 0


def test_every_kind_of_request_is_recorded_exactly_once(service: RunningService, events) -> None:  # type: ignore[no-untyped-def]
    body = transmission("DE", 1, person=new_person_seed())
    body["person"]["family_name"] = NAME
    poor = transmission("DE", 1, person=new_person_seed(), quality=0.1)
    with service.client("DE") as germany:
        service.key("DE", "supervisor")  # created now so the CLI does not interleave below
        start = _last_seq(events)
        requests = [
            (lambda: germany.post("/v1/transmissions", json=body), 201, None),
            (lambda: germany.post("/v1/transmissions", json=body), 409,
             "duplicate-reference-number"),
            (lambda: germany.post("/v1/transmissions", json=poor), 422, "insufficient-quality"),
            (lambda: germany.post("/v1/transmissions", content=b"{not json",
                                  headers={"content-type": "application/json"}), 422,
             "validation"),
            (lambda: httpx.post(f"{service.url}/v1/transmissions", json=body), 401,
             "unauthenticated"),
            (lambda: germany.get(f"/v1/datasets/{body['reference_number']}"), 200, None),
            (lambda: germany.get("/v1/audit/events"), 403, "forbidden"),
            (lambda: germany.get("/no/such/route"), 404, "http"),
            (lambda: germany.post("/v1/transmissions", content=b"x" * 300_000,
                                  headers={"content-type": "application/json"}), 413,
             "payload-too-large"),
        ]
        for send, status, problem in requests:
            before = _last_seq(events)
            answer = send()
            assert answer.status_code == status, answer.text
            recorded = events(before)
            assert len(recorded) == 1, (status, recorded)
            event = recorded[0]
            assert event["status"] == status
            assert event["problem"] == problem
            assert event["request_id"] == answer.headers["x-request-id"]
    everything = json.dumps(events(start))
    assert NAME not in everything
    assert body["biometrics"]["fingers"]["1"][:40] not in everything
    assert "127.0.0.1" not in everything
    stored = events(start)[0]
    assert stored["operation"] == "dataset:transmit"
    assert stored["actor"]["member_state"] == "DE" and stored["actor"]["role"] == "officer"
    assert stored["actor"]["user_id"] == "officer-7"
    assert stored["reference_numbers"] == [body["reference_number"]]
    assert stored["outcome"] == {"result": "no_hit", "stored": True, "matched": [],
                                 "modalities": []}
    assert len(stored["probe_hmac"]) == 64 and stored["client_hash"]
    assert stored["purpose"] == "category 1 (Art 15)"
    # The refused duplicate carries the same probe fingerprint: same templates were sent.
    assert events(start)[1]["probe_hmac"] == stored["probe_hmac"]


def test_hits_are_recorded_with_the_matched_datasets(service: RunningService, events) -> None:  # type: ignore[no-untyped-def]
    person = new_person_seed()
    with service.client("IT") as italy, service.client("FR") as france:
        first = italy.post("/v1/transmissions", json=transmission("IT", 2, person=person)).json()
        before = _last_seq(events)
        hit = france.post("/v1/transmissions",
                          json=transmission("FR", 1, person=person, capture=2)).json()
    event = events(before)[0]
    assert event["outcome"]["result"] == "hit"
    assert event["outcome"]["matched"] == [first["reference_number"]]
    assert event["reference_numbers"] == [hit["reference_number"], first["reference_number"]]
    assert event["member_states"] == ["FR", "IT"]


def test_supervisors_query_by_scope_and_others_are_refused(service: RunningService) -> None:
    person = new_person_seed()
    with service.client("NL") as netherlands, service.client("BE") as belgium:
        stored = netherlands.post("/v1/transmissions",
                                  json=transmission("NL", 2, person=person)).json()
        belgium.post("/v1/transmissions", json=transmission("BE", 1, person=person, capture=2))
    reference = stored["reference_number"]
    with service.client("EU", "supervisor") as edps, \
            service.client("NL", "supervisor") as dutch, \
            service.client("DE", "supervisor") as german, \
            service.client("NL", "operator") as operator:
        assert operator.get("/v1/audit/events").status_code == 403
        history = edps.get(f"/v1/audit/datasets/{reference}").json()["events"]
        operations = [(e["event"]["operation"], e["event"]["actor"]["member_state"])
                      for e in history]
        assert operations == [("dataset:transmit", "NL"), ("dataset:transmit", "BE")]
        # The Dutch authority sees that Belgium's search touched a Dutch dataset.
        assert len(dutch.get(f"/v1/audit/datasets/{reference}").json()["events"]) == 2
        assert german.get(f"/v1/audit/datasets/{reference}").json()["events"] == []
        assert german.get("/v1/audit/events", params={"member_state": "NL"}).status_code == 403
        mine = german.get("/v1/audit/events", params={"limit": 1000}).json()["events"]
        assert mine and all("DE" in e["event"]["member_states"] for e in mine if e["event"])
        first = edps.get("/v1/audit/events", params={"limit": 2}).json()
        assert len(first["events"]) == 2 and first["next_after"] == first["events"][1]["seq"]
        second = edps.get("/v1/audit/events", params={"after": first["next_after"],
                                                        "limit": 2}).json()
        assert second["events"][0]["seq"] > first["next_after"]
        by_operation = edps.get("/v1/audit/events",
                                params={"operation": "dataset:read", "limit": 1000}).json()
        assert all(e["event"]["operation"] == "dataset:read" for e in by_operation["events"])
        assert edps.get("/v1/audit/events", params={"since": "not a date"}).status_code == 422


def test_export_and_verification(service: RunningService) -> None:
    with service.client("EU", "supervisor") as edps:
        lines = [json.loads(line) for line in edps.get("/v1/audit/export").text.splitlines()]
        assert lines[0]["format"] == "abis-audit-export/1"
        exported = [line["event"] for line in lines if "event" in line]
        assert exported and all(e["hash"] and e["prev_hash"] for e in exported)
        assert any("checkpoint" in line for line in lines)
        report = edps.get("/v1/audit/verify").json()
        assert report["ok"] is True and report["events_checked"] >= len(exported)
        assert report["public_key"] == lines[0]["public_key"]
    done = cli(service.env, "audit", "verify")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok:")
    public = cli(service.env, "audit", "public-key").stdout.strip()
    assert public == report["public_key"]
    assert cli(service.env, "audit", "verify", "--public-key", "00" * 32).returncode == 1
