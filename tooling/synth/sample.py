"""One ready-to-send transmission body for a synthetic person (`abis sample`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from schemas.codes import Category
from tooling.synth.person import SyntheticPerson, encode_biometrics

_FAMILY = ["Haddad", "Nasser", "Rahimi", "Okafor", "Tesfaye", "Diallo", "Karimi", "Mansour"]
_GIVEN = ["Amal", "Yusuf", "Leila", "Samir", "Nadia", "Omar", "Hana", "Tariq"]
_PLACES = {
    Category.IRREGULAR_CROSSING: "border crossing point",
    Category.SEARCH_AND_RESCUE: "port of disembarkation",
    Category.APPLICANT: "asylum office",
}


def sample_transmission(
    *,
    person_seed: int,
    capture: int,
    member_state: str,
    category: Category,
    finger_dim: int = 128,
    face_dim: int = 512,
    now: dt.datetime | None = None,
    reference_suffix: str | None = None,
) -> dict[str, Any]:
    """A valid body for POST /v1/transmissions; same seed, same person; captures vary.

    The reference number is the same for the same seed and capture unless `reference_suffix`
    is given (a stored reference number cannot be sent twice)."""
    now = now or dt.datetime.now(dt.UTC)
    rng = np.random.default_rng([person_seed, 99])
    person = SyntheticPerson(person_seed, finger_dim, face_dim)
    fingers, face = person.capture(capture)
    suffix = f"S{person_seed}C{capture}{rng.integers(10**6):06d}"
    if reference_suffix is not None:
        suffix = reference_suffix
    taken = now - dt.timedelta(hours=1)
    return {
        "reference_number": f"{member_state}{int(category)}{suffix}"[:30],
        "category": int(category),
        "biometrics": encode_biometrics(fingers, face),
        "person": {
            "family_name": _FAMILY[int(rng.integers(len(_FAMILY)))],
            "given_names": _GIVEN[int(rng.integers(len(_GIVEN)))],
            "nationality": "SYR",
            "date_of_birth": (dt.date(1990, 1, 1) + dt.timedelta(days=int(rng.integers(7000))))
            .isoformat(),
            "sex": "X",
        },
        "event": {"place": _PLACES.get(category, "office"), "date": taken.date().isoformat()},
        "taken_at": taken.isoformat(),
        "operator_user_id": f"{member_state.lower()}-officer-1",
    }
