"""The dataset lifecycle over HTTP: amend, mark, notify, erase, false hits, subject access,
statistics; every change only by the Member State of origin."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import httpx
import pytest

from tests.factories import new_person_seed, transmission
from tests.service_process import RunningService


def _send(client: httpx.Client, body: dict[str, object]) -> dict[str, object]:
    answer = client.post("/v1/transmissions", json=body)
    assert answer.status_code in (200, 201), answer.text
    result: dict[str, object] = answer.json()
    return result


def _pending(client: httpx.Client) -> list[dict[str, object]]:
    notifications: list[dict[str, object]] = client.get("/v1/notifications").json()[
        "notifications"]
    return notifications


@dataclass(frozen=True)
class Linked:
    italian: str
    german: str
    hit_id: int
    person: int


@pytest.fixture
def linked(service: RunningService) -> Linked:
    """One person apprehended by IT (category 2), then applying in DE (category 1)."""
    person = new_person_seed()
    with service.client("IT") as italy, service.client("DE") as germany:
        italian = _send(italy, transmission("IT", 2, person=person))
        german = _send(germany, transmission("DE", 1, person=person, capture=2))
    hits = german["hits"]
    assert isinstance(hits, list) and len(hits) == 1
    return Linked(str(italian["reference_number"]), str(german["reference_number"]),
                  int(hits[0]["hit_id"]), person)


def test_only_the_member_state_of_origin_changes_a_dataset(
    service: RunningService, linked: Linked
) -> None:
    italian = linked.italian
    with service.client("DE") as germany, service.client("IT") as italy:
        for method, path, kwargs in [
            ("PATCH", f"/v1/datasets/{italian}", {"json": {"security_flag": True}}),
            ("POST", f"/v1/datasets/{italian}/mark", {"json": {"reason": "residence_document"}}),
            ("DELETE", f"/v1/datasets/{italian}", {"params": {"reason": "citizenship"}}),
        ]:
            answer = germany.request(method, path, **kwargs)
            assert answer.status_code == 404, answer.text
        assert italy.get(f"/v1/datasets/{italian}").json()["marked"] is False
    with service.client("IT", "law_enforcement") as police:
        assert police.patch(f"/v1/datasets/{italian}", json={}).status_code == 403


def test_status_update_and_security_flag_notify_linked_member_states(
    service: RunningService, linked: Linked
) -> None:
    italian, german = linked.italian, linked.german
    with service.client("IT") as italy, service.client("DE") as germany:
        before = {n["id"] for n in _pending(germany)}
        answer = italy.patch(f"/v1/datasets/{italian}",
                             json={"responsible_member_state": "DE", "security_flag": True})
        assert answer.status_code == 200, answer.text
        assert answer.json()["notified_member_states"] == ["DE"]
        status = italy.get(f"/v1/datasets/{italian}").json()["status"]
        assert status["responsible_member_state"] == "DE" and status["security_flag"] is True
        new = [n for n in _pending(germany) if n["id"] not in before]
        assert [(n["kind"], n["about_reference_number"], n["your_reference_numbers"])
                for n in new] == [("security_flag_set", italian, [german])]
        # The same flag again tells nobody; a bad field changes nothing.
        assert italy.patch(f"/v1/datasets/{italian}", json={"security_flag": True}).json()[
            "notified_member_states"] == []
        assert italy.patch(f"/v1/datasets/{italian}", json={"colour": "red"}).status_code == 422
        acked = germany.post(f"/v1/notifications/{new[0]['id']}/ack")
        assert acked.status_code == 200 and acked.json()["acknowledged_at"]
        assert new[0]["id"] not in {n["id"] for n in _pending(germany)}
        assert italy.post(f"/v1/notifications/{new[0]['id']}/ack").status_code == 404


def test_marking_changes_what_admission_searches_hit_and_notifies(
    service: RunningService, linked: Linked
) -> None:
    german = linked.german
    with service.client("DE") as germany, service.client("IT") as italy, \
            service.client("NL") as netherlands:
        stored = germany.get(f"/v1/datasets/{german}").json()
        assert stored["marked"] is False
        wrong = germany.post(f"/v1/datasets/{german}/mark",
                             json={"reason": "residence_document"})
        assert wrong.status_code == 422
        person_probe = linked.person
        search = transmission("NL", 7, person=person_probe, capture=7)
        assert _send(netherlands, search)["result"] == "no_hit"
        before = {n["id"] for n in _pending(italy)}
        marked = germany.post(f"/v1/datasets/{german}/mark",
                              json={"reason": "international_protection"})
        assert marked.status_code == 200 and marked.json()["marked"] is True
        assert "IT" in marked.json()["notified_member_states"]
        assert any(n["kind"] == "marked" and n["about_reference_number"] == german
                   for n in _pending(italy) if n["id"] not in before)
        again = germany.post(f"/v1/datasets/{german}/mark",
                             json={"reason": "international_protection"})
        assert again.json()["notified_member_states"] == []  # idempotent
        hit = _send(netherlands, transmission("NL", 7, person=person_probe, capture=8))
        assert [h["reference_number"] for h in hit["hits"]] == [german]  # type: ignore[union-attr]
        assert hit["hits"][0]["marked"] is True  # type: ignore[index]
        unmarked = germany.delete(f"/v1/datasets/{german}/mark")
        assert unmarked.json()["marked"] is False
        assert _send(netherlands, transmission("NL", 7, person=person_probe,
                                               capture=10))["result"] == "no_hit"


def test_advance_erasure_stops_hits_at_once_and_notifies(
    service: RunningService, linked: Linked
) -> None:
    italian, german = linked.italian, linked.german
    person = linked.person
    with service.client("IT") as italy, service.client("DE") as germany, \
            service.client("FR") as france:
        assert italy.delete(f"/v1/datasets/{italian}").status_code == 422  # reason required
        erased = italy.delete(f"/v1/datasets/{italian}", params={"reason": "citizenship"})
        assert erased.status_code == 200, erased.text
        assert erased.json()["notified_member_states"] == ["DE"]
        assert italy.get(f"/v1/datasets/{italian}").status_code == 404
        assert italy.delete(f"/v1/datasets/{italian}",
                            params={"reason": "citizenship"}).status_code == 404
        after = _send(france, transmission("FR", 1, person=person, capture=5))
        assert italian not in [h["reference_number"] for h in after["hits"]]  # type: ignore[union-attr]
        assert german in [h["reference_number"] for h in after["hits"]]  # type: ignore[union-attr]
        told = [n for n in _pending(germany) if n["kind"] == "erased"
                and n["about_reference_number"] == italian]
        assert told and told[0]["reason"] == "citizenship"


def test_false_hit_unlinks_the_sequence_and_counts(
    service: RunningService, linked: Linked
) -> None:
    italian, german, hit_id = linked.italian, linked.german, linked.hit_id
    with service.client("IT") as italy, service.client("DE") as germany, \
            service.client("EU", "supervisor") as edps:
        assert italy.get(f"/v1/datasets/{italian}").json()["sequence_id"] == \
            germany.get(f"/v1/datasets/{german}").json()["sequence_id"]
        assert italy.post(f"/v1/hits/{hit_id}/false", json={}).status_code == 404  # not theirs
        reported = germany.post(f"/v1/hits/{hit_id}/false", json={"comment": "twins"})
        assert reported.status_code == 200, reported.text
        assert italy.get(f"/v1/datasets/{italian}").json()["sequence_id"] != \
            germany.get(f"/v1/datasets/{german}").json()["sequence_id"]
        month = dt.datetime.now(dt.UTC).strftime("%Y-%m")
        rows = edps.get("/v1/statistics", params={"month": month}).json()["rows"]
        assert any(r["metric"] == "false_hit" and r["member_state"] == "DE"
                   and r["category"] == 1 and r["matched_category"] == 2 for r in rows)


def test_data_subject_access_returns_the_data_held_and_keeps_nothing(
    service: RunningService, linked: Linked
) -> None:
    italian, german = linked.italian, linked.german
    person = linked.person
    with service.client("FR") as france:
        request = transmission("FR", 6, person=person, capture=11)
        answer = _send(france, request)
        assert answer["stored"] is False and answer["sequence_id"] is None
        held = {item["reference_number"]: item for item in answer["data_held"]}  # type: ignore[union-attr]
        assert set(held) >= {italian, german}
        assert held[german]["member_state"] == "DE"
        assert held[german]["person"]["family_name"].startswith("Testperson")
        assert france.get(f"/v1/datasets/{request['reference_number']}").status_code == 404


def test_statistics_are_anonymous_counts_for_supervisors(
    service: RunningService, linked: Linked
) -> None:
    italian, german = linked.italian, linked.german
    month = dt.datetime.now(dt.UTC).strftime("%Y-%m")
    with service.client("EU", "supervisor") as edps, service.client("DE") as germany, \
            service.client("EU", "admin") as admin:
        report = edps.get("/v1/statistics", params={"month": month})
        assert report.status_code == 200
        rows = report.json()["rows"]
        counts = {(r["member_state"], r["category"], r["metric"], r["matched_category"]):
                  r["count"] for r in rows}
        assert counts[("IT", 2, "transmitted", None)] >= 1
        assert counts[("DE", 1, "hit", 2)] >= 1
        assert italian not in report.text and german not in report.text
        csv = admin.get("/v1/statistics", params={"month": month, "format": "csv"})
        assert csv.headers["content-type"].startswith("text/csv")
        header = "month,member_state,category,metric,matched_category,count"
        assert csv.text.splitlines()[0] == header
        assert germany.get("/v1/statistics", params={"month": month}).status_code == 403
        assert edps.get("/v1/statistics", params={"month": "2026-13"}).status_code == 422
        assert edps.get("/v1/statistics", params={"month": "1999-01"}).json()["rows"] == []
