"""Bad input gets a clear RFC 9457 problem and changes nothing."""

from __future__ import annotations

import base64
import struct

import httpx
import numpy as np
import pytest

from tests.factories import new_person_seed, raw_vector, reference, transmission
from tests.service_process import RunningService

PROBLEM = "application/problem+json"


def _assert_problem(response: httpx.Response, status: int, slug: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, object] = response.json()
    assert body["type"] == f"/problems/{slug}"
    assert body["status"] == status
    assert body["title"]
    return body


def _not_stored(client: httpx.Client, body: dict[str, object]) -> None:
    assert client.get(f"/v1/datasets/{body['reference_number']}").status_code == 404


def test_missing_and_invalid_keys_are_401(service: RunningService) -> None:
    body = transmission("DE", 1, person=new_person_seed())
    anonymous = httpx.post(f"{service.url}/v1/transmissions", json=body)
    _assert_problem(anonymous, 401, "unauthenticated")
    assert anonymous.headers["www-authenticate"] == "Bearer"
    forged = httpx.post(f"{service.url}/v1/transmissions", json=body,
                        headers={"Authorization": "Bearer abis_000000000000_nope"})
    _assert_problem(forged, 401, "unauthenticated")
    with service.client("DE") as germany:
        _not_stored(germany, body)


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda b: b["biometrics"]["fingers"].update({"1": raw_vector(np.ones(64))}),
                     id="wrong-dimension"),
        pytest.param(lambda b: b["biometrics"]["fingers"].update(
            {"2": raw_vector(np.full(128, np.nan))}), id="nan"),
        pytest.param(lambda b: b["biometrics"]["fingers"].update(
            {"3": raw_vector(np.r_[np.inf, np.ones(127)])}), id="inf"),
        pytest.param(lambda b: b["biometrics"]["fingers"].update({"4": raw_vector(np.zeros(128))}),
                     id="zero-vector"),
        pytest.param(lambda b: b["biometrics"]["fingers"].update({"5": "!!!notbase64!!!"}),
                     id="bad-base64"),
        pytest.param(lambda b: b["biometrics"]["fingers"].update(
            {"11": b["biometrics"]["fingers"]["1"]}), id="unknown-position"),
        pytest.param(lambda b: b["biometrics"].update(
            {"face": base64.b64encode(struct.pack("<3f", 1, 2, 3)).decode()}), id="face-dim"),
    ],
)
def test_bad_templates_are_refused_and_nothing_is_stored(service: RunningService, mutate) -> None:
    body = transmission("DE", 1, person=new_person_seed())
    mutate(body)
    with service.client("DE") as germany:
        answer = germany.post("/v1/transmissions", json=body)
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"].startswith(PROBLEM)
        assert answer.json()["type"] in ("/problems/invalid-template", "/problems/validation")
        _not_stored(germany, body)


def test_duplicate_reference_number_is_409_and_keeps_the_first(service: RunningService) -> None:
    first = transmission("DE", 1, person=new_person_seed())
    second = transmission("DE", 1, person=new_person_seed(),
                          reference_number=first["reference_number"])
    with service.client("DE") as germany:
        assert germany.post("/v1/transmissions", json=first).status_code == 201
        body = _assert_problem(germany.post("/v1/transmissions", json=second), 409,
                               "duplicate-reference-number")
        assert body["reference_number"] == first["reference_number"]
        stored = germany.get(f"/v1/datasets/{first['reference_number']}").json()
        assert stored["person"]["family_name"] == first["person"]["family_name"]


def test_reference_number_must_fit_sender_and_category(service: RunningService) -> None:
    with service.client("DE") as germany:
        for wrong in (reference("FR", 1), reference("DE", 2)):
            body = transmission("DE", 1, person=new_person_seed(), reference_number=wrong)
            _assert_problem(germany.post("/v1/transmissions", json=body), 422, "rule-violation")
            _not_stored(germany, body)


def test_role_category_and_purpose_rules(service: RunningService) -> None:
    with service.client("DE") as officer:
        police_search = transmission("DE", 4, person=new_person_seed())
        _assert_problem(officer.post("/v1/transmissions", json=police_search), 403,
                        "category-not-allowed")
    with service.client("DE", "law_enforcement") as police:
        _assert_problem(police.post("/v1/transmissions", json=police_search), 422,
                        "rule-violation")
        with_purpose = dict(police_search, purpose="serious crime", case_number="K-1")
        answer = police.post("/v1/transmissions", json=with_purpose)
        assert answer.status_code == 200, answer.text
        assert answer.json()["stored"] is False
        applicant = transmission("DE", 1, person=new_person_seed())
        _assert_problem(police.post("/v1/transmissions", json=applicant), 403,
                        "category-not-allowed")


def test_minimum_age_of_six(service: RunningService) -> None:
    body = transmission("DE", 1, person=new_person_seed())
    body["person"]["date_of_birth"] = "2024-01-01"
    with service.client("DE") as germany:
        problem = _assert_problem(germany.post("/v1/transmissions", json=body), 422,
                                  "rule-violation")
        assert "6" in str(problem["detail"])
        _not_stored(germany, body)


def test_body_too_large_is_413(service: RunningService) -> None:
    huge = b'{"padding": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    with service.client("DE") as germany:
        declared = germany.post("/v1/transmissions", content=huge,
                                headers={"content-type": "application/json"})
        _assert_problem(declared, 413, "payload-too-large")

        def chunks():
            for start in range(0, len(huge), 65536):
                yield huge[start : start + 65536]

        chunked = germany.post("/v1/transmissions", content=chunks(),
                               headers={"content-type": "application/json"})
        _assert_problem(chunked, 413, "payload-too-large")


def test_validation_problems_do_not_echo_personal_data(service: RunningService) -> None:
    body = transmission("DE", 1, person=new_person_seed())
    body["person"]["family_name"] = {"secret": "Verysecretname"}
    body["person"]["date_of_birth"] = "Verysecretbirth"
    with service.client("DE") as germany:
        answer = germany.post("/v1/transmissions", json=body)
        problem = _assert_problem(answer, 422, "validation")
        assert "Verysecret" not in answer.text
        assert problem["errors"]


def test_poor_quality_is_refused_then_retransmitted_with_the_same_reference(
    service: RunningService,
) -> None:
    person = new_person_seed()
    poor = transmission("DE", 1, person=person, quality=0.1)
    with service.client("DE") as germany:
        problem = _assert_problem(germany.post("/v1/transmissions", json=poor), 422,
                                  "insufficient-quality")
        assert problem["poor_fingers"] == list(range(1, 11))
        _not_stored(germany, poor)
        retaken = transmission("DE", 1, person=person, capture=2,
                               reference_number=poor["reference_number"])
        assert germany.post("/v1/transmissions", json=retaken).status_code == 201


def test_problem_types_are_documented(service: RunningService) -> None:
    described = httpx.get(f"{service.url}/problems/insufficient-quality")
    assert described.status_code == 200
    assert described.json()["status"] == 422
    _assert_problem(httpx.get(f"{service.url}/problems/nonsense"), 404, "not-found")
    _assert_problem(httpx.get(f"{service.url}/no/such/route"), 404, "http")
