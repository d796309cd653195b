"""Comparison rules seen through the API: own data, face-only hits, linking, concurrency."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.factories import new_person_seed, transmission
from tests.service_process import RunningService


def _post(client: httpx.Client, body: dict[str, object]) -> dict[str, object]:
    answer = client.post("/v1/transmissions", json=body)
    assert answer.status_code in (200, 201), answer.text
    result: dict[str, object] = answer.json()
    return result


def test_own_data_is_compared_only_when_asked(service: RunningService) -> None:
    person = new_person_seed()
    with service.client("PL") as poland:
        _post(poland, transmission("PL", 2, person=person))
        assert _post(poland, transmission("PL", 1, person=person, capture=2))["result"] == "no_hit"
        asked = _post(poland, transmission("PL", 1, person=person, capture=3,
                                           compare_own_data=True))
        assert asked["result"] == "hit"
        assert asked["secondary_movement"] is None  # the same Member State: no movement


def test_face_only_when_fingerprints_are_absent_needs_verification(
    service: RunningService,
) -> None:
    person = new_person_seed()
    with service.client("GR") as greece, service.client("AT") as austria:
        _post(greece, transmission("GR", 9, person=person))
        face_only = transmission("AT", 3, person=person, capture=2, positions=())
        answer = _post(austria, face_only)
        assert answer["result"] == "hit"
        assert answer["hits"][0]["modality"] == "face"  # type: ignore[index]
        assert answer["verification_required"] is True


def test_fingerprints_are_primary_when_both_are_present(service: RunningService) -> None:
    person = new_person_seed()
    with service.client("ES") as spain, service.client("PT") as portugal:
        _post(spain, transmission("ES", 2, person=person))
        answer = _post(portugal, transmission("PT", 1, person=person, capture=2,
                                              positions=(2, 7)))
        assert answer["hits"][0]["modality"] == "fingerprint"  # type: ignore[index]
        assert answer["hits"][0]["fingers_compared"] == 2  # type: ignore[index]
        assert answer["verification_required"] is False


def test_every_matching_dataset_is_returned_and_linked(service: RunningService) -> None:
    person = new_person_seed()
    with service.client("HU") as hungary, service.client("SE") as sweden, \
            service.client("BE") as belgium:
        first = _post(hungary, transmission("HU", 2, person=person))
        second = _post(sweden, transmission("SE", 1, person=person, capture=2))
        third = _post(belgium, transmission("BE", 3, person=person, capture=3))
        assert {hit["member_state"] for hit in third["hits"]} == {"HU", "SE"}  # type: ignore[union-attr,index]
        assert first["sequence_id"] == second["sequence_id"] == third["sequence_id"]


def test_concurrent_transmissions_of_one_person_are_all_linked(service: RunningService) -> None:
    person = new_person_seed()
    states = ["CZ", "SK", "SI", "HR", "RO", "BG"]
    clients = {state: service.client(state) for state in states}
    try:
        with ThreadPoolExecutor(len(states)) as pool:
            answers = list(pool.map(
                lambda pair: _post(clients[pair[1]],
                                   transmission(pair[1], 2, person=person, capture=pair[0])),
                enumerate(states),
            ))
    finally:
        for client in clients.values():
            client.close()
    assert len({answer["sequence_id"] for answer in answers}) == 1
    # Every transmission after the first saw every earlier one: hits form a complete history.
    hit_counts = sorted(len(answer["hits"]) for answer in answers)  # type: ignore[arg-type]
    assert hit_counts == list(range(len(states)))


def test_readiness_and_dataset_count(service: RunningService) -> None:
    ready = httpx.get(f"{service.url}/readyz").json()
    assert ready["status"] == "ready"
    assert httpx.get(f"{service.url}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{service.url}/docs").status_code == 200
    spec = httpx.get(f"{service.url}/openapi.json").json()
    for path in spec["paths"].values():
        for operation in path.values():
            assert operation.get("description") or operation.get("summary")
