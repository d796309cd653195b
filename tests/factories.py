"""Test data: synthetic persons, transmission bodies, unique reference numbers."""

from __future__ import annotations

import datetime as dt
import itertools
import secrets
from typing import Any

import numpy as np

from schemas.codes import Category
from tooling.synth.person import SyntheticPerson, encode_biometrics

_counter = itertools.count(1)


def new_person_seed() -> int:
    """A person no other test uses."""
    return secrets.randbits(48)


def reference(member_state: str, category: int) -> str:
    return f"{member_state}{category}T{next(_counter):05d}{secrets.token_hex(4).upper()}"


def transmission(
    member_state: str,
    category: int | Category,
    *,
    person: int,
    capture: int = 1,
    reference_number: str | None = None,
    event_date: dt.date | None = None,
    positions: tuple[int, ...] = tuple(range(1, 11)),
    face: bool = True,
    quality: float = 0.9,
    finger_dim: int = 128,
    face_dim: int = 512,
    **extra: Any,
) -> dict[str, Any]:
    """A valid body for POST /v1/transmissions of synthetic `person` sent by `member_state`."""
    now = dt.datetime.now(dt.UTC)
    category = int(category)
    fingers, face_vector = SyntheticPerson(person, finger_dim, face_dim).capture(
        capture, positions=positions, face=face, quality=quality
    )
    body: dict[str, Any] = {
        "reference_number": reference_number or reference(member_state, category),
        "category": category,
        "biometrics": encode_biometrics(fingers, face_vector),
        "person": {
            "family_name": f"Testperson{person % 100000}",
            "given_names": "Alex",
            "nationality": "AFG",
            "date_of_birth": "1995-05-17",
            "sex": "X",
        },
        "event": {"place": "somewhere", "date": (event_date or now.date()).isoformat()},
        "taken_at": (now - dt.timedelta(minutes=30)).isoformat(),
        "operator_user_id": "officer-7",
    }
    body.update(extra)
    return body


def raw_vector(values: np.ndarray) -> str:
    from schemas.templates import encode_template

    return encode_template(values.astype("<f4").tobytes())
