"""The issue's scenario, end to end over HTTP against a real server."""

from __future__ import annotations

import datetime as dt

from tests.factories import new_person_seed, transmission
from tests.service_process import RunningService


def test_apprehended_in_italy_then_applying_in_germany(service: RunningService) -> None:
    person = new_person_seed()
    crossing = dt.date.today() - dt.timedelta(days=120)
    with service.client("IT") as italy, service.client("DE") as germany:
        first = italy.post(
            "/v1/transmissions",
            json=transmission("IT", 2, person=person, capture=1, event_date=crossing),
        )
        assert first.status_code == 201, first.text
        assert first.json()["result"] == "no_hit"
        assert first.json()["stored"] is True

        application = transmission("DE", 1, person=person, capture=2)
        answer = germany.post("/v1/transmissions", json=application)
        assert answer.status_code == 201, answer.text
        result = answer.json()
        assert result["result"] == "hit"
        assert [hit["reference_number"] for hit in result["hits"]] == [
            first.json()["reference_number"]
        ]
        hit = result["hits"][0]
        assert hit["member_state"] == "IT"
        assert hit["category"] == 2
        assert hit["modality"] == "fingerprint"
        assert hit["event_date"] == crossing.isoformat()
        assert result["secondary_movement"] == {
            "member_states": ["IT"],
            "first_seen": crossing.isoformat(),
        }
        assert result["responsibility"]["member_state"] == "IT"
        assert result["responsibility"]["rule"] == "first_irregular_entry"
        assert result["sequence_id"] == first.json()["sequence_id"]
        assert result["verification_required"] is False

        # DE cannot read IT's dataset, and the answer is the same as for a missing one.
        theirs = germany.get(f"/v1/datasets/{first.json()['reference_number']}")
        missing = germany.get("/v1/datasets/IT2NOSUCHDATASET")
        assert theirs.status_code == missing.status_code == 404
        assert theirs.json()["title"] == missing.json()["title"]
        assert italy.get(f"/v1/datasets/{first.json()['reference_number']}").status_code == 200


def test_unrelated_person_gets_no_hit(service: RunningService) -> None:
    with service.client("IT") as italy, service.client("DE") as germany:
        stranger = transmission("IT", 2, person=new_person_seed())
        assert italy.post("/v1/transmissions", json=stranger).status_code == 201
        other = transmission("DE", 1, person=new_person_seed())
        answer = germany.post("/v1/transmissions", json=other)
        assert answer.status_code == 201
        assert answer.json()["result"] == "no_hit"
        assert answer.json()["hits"] == []
        assert answer.json()["secondary_movement"] is None
        assert answer.json()["responsibility"] is None


def test_admission_search_is_answered_but_not_stored(service: RunningService) -> None:
    person = new_person_seed()
    with service.client("FR") as france, service.client("NL") as netherlands:
        applied = france.post("/v1/transmissions", json=transmission("FR", 1, person=person))
        assert applied.status_code == 201
        search = transmission("NL", 7, person=person, capture=2)
        answer = netherlands.post("/v1/transmissions", json=search)
        assert answer.status_code == 200, answer.text
        # Category 7 compares only against *marked* category-1 datasets: this one is unmarked.
        assert answer.json()["result"] == "no_hit"
        assert answer.json()["stored"] is False
        assert answer.json()["sequence_id"] is None
        assert netherlands.get(f"/v1/datasets/{search['reference_number']}").status_code == 404
        # And being search-only, the same reference number may be searched again.
        assert netherlands.post("/v1/transmissions", json=search).status_code == 200
