"""What the load test sends: a gallery of synthetic persons and probes derived from them.

Gallery person p (0 <= p < persons) is `SyntheticPerson(GALLERY_SEED + p)`; its dataset is
capture 1, stored by `member_state_of(p)` under `category_of(p)`. A *mated* probe is a fresh
capture (another capture number) of a gallery person, so the matcher sees what it sees in
production: a new, noisy encounter of someone already stored. A *non-mated* probe is a
capture of a person drawn from a seed range far from the gallery's. Bodies are built as
`schemas` models, so a body the service would refuse for its shape fails here first.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import random
from dataclasses import dataclass

import numpy as np
import orjson

from schemas.bulk import BulkItem
from schemas.codes import Category
from schemas.templates import encode_template
from schemas.transmission import TransmissionRequest
from tooling.synth.person import SyntheticPerson, encode_biometrics

GALLERY_SEED = 10_000_000_000  # gallery persons: GALLERY_SEED + p
STRANGER_SEED = 90_000_000_000  # non-mated probes: never in the gallery

# Member States with the busiest external borders carry more of the traffic.
MEMBER_STATES = ("IT", "GR", "ES", "DE", "FR", "AT", "NL", "BE", "PL", "SE", "MT", "CY", "BG",
                 "HR", "HU", "RO")
_MS_WEIGHTS = (14, 12, 10, 14, 10, 5, 5, 4, 6, 4, 3, 3, 3, 3, 2, 2)

# The gallery: what was stored earlier (applications, crossings, illegal stays, sea rescues,
# temporary protection, national resettlement), in rough Eurodac proportions.
_GALLERY_CATEGORIES = (1, 1, 1, 1, 2, 2, 2, 3, 3, 9, 0, 8)


def member_state_of(person: int) -> str:
    return random.Random(person * 7919).choices(MEMBER_STATES, _MS_WEIGHTS)[0]


def category_of(person: int) -> int:
    return _GALLERY_CATEGORIES[person % len(_GALLERY_CATEGORIES)]


@dataclass(frozen=True)
class Traffic:
    """A border officer's transmission: category, and the share of it that should hit.

    The shares of hits follow Eurodac's annual reports in spirit: about a third of applicants
    and illegal stayers were already known (secondary movements), fewer of those apprehended
    at the external border (first contact), most data-subject requests concern stored persons.
    """

    category: int
    weight: float
    mated_share: float


OFFICER_TRAFFIC = (
    Traffic(1, 45, 0.35),  # applicant for international protection (stored)
    Traffic(2, 20, 0.15),  # irregular crossing (stored)
    Traffic(3, 18, 0.40),  # illegally staying (stored)
    Traffic(9, 5, 0.10),  # search and rescue (stored)
    Traffic(0, 4, 0.10),  # temporary protection (stored)
    Traffic(7, 4, 0.20),  # admission procedure, search only
    Traffic(6, 4, 0.70),  # data-subject access, search only
)
LAW_ENFORCEMENT_TRAFFIC = (Traffic(4, 1, 0.30),)


class ReferenceNumbers:
    """Unique reference numbers for this load-test process: MS + category + a run tag."""

    def __init__(self) -> None:
        self._tag = os.urandom(4).hex().upper()
        self._counter = itertools.count(1)

    def next(self, member_state: str, category: int) -> str:
        return f"{member_state}{category}L{self._tag}{next(self._counter):08d}"


def _person_fields(person_seed: int) -> dict[str, object]:
    rng = random.Random(person_seed)
    born = dt.date(1960, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 50))
    return {
        "family_name": f"Loadtest{person_seed % 1_000_000:06d}",
        "given_names": rng.choice(("Amal", "Yusuf", "Noor", "Olena", "Samir", "Hana")),
        "nationality": rng.choice(("SYR", "AFG", "IRQ", "UKR", "ERI", "NGA", "BGD", "TUR")),
        "date_of_birth": born.isoformat(),
        "sex": rng.choice(("F", "M", "X")),
    }


def transmission(
    member_state: str,
    category: int,
    person_seed: int,
    capture: int,
    reference_number: str,
    *,
    finger_dim: int = 128,
    face_dim: int = 512,
    now: dt.datetime | None = None,
) -> TransmissionRequest:
    """A valid transmission of synthetic person `person_seed`'s encounter `capture`."""
    now = now or dt.datetime.now(dt.UTC)
    fingers, face = SyntheticPerson(person_seed, finger_dim, face_dim).capture(capture)
    extra: dict[str, object] = {}
    if category in (4, 5):
        extra = {"purpose": "prevention of a terrorist offence", "case_number": "LT-2026-0001"}
    return TransmissionRequest.model_validate(
        {
            "reference_number": reference_number,
            "category": Category(category),
            "biometrics": encode_biometrics(fingers, face),
            "person": _person_fields(person_seed),
            "event": {"place": f"load test, {member_state}", "date": now.date().isoformat()},
            "taken_at": (now - dt.timedelta(minutes=20)).isoformat(),
            "operator_user_id": f"{member_state.lower()}-loadtest",
            **extra,
        }
    )


def gallery_item(person: int, *, finger_dim: int = 128, face_dim: int = 512,
                 now: dt.datetime | None = None) -> BulkItem:
    """Gallery person `person`'s stored dataset, as a bulk item (an operator loads it)."""
    member_state, category = member_state_of(person), category_of(person)
    reference = f"{member_state}{category}G{person:010d}"
    body = transmission(member_state, category, GALLERY_SEED + person, 1, reference,
                        finger_dim=finger_dim, face_dim=face_dim, now=now)
    return BulkItem(member_state=member_state, transmission=body)


def gallery_line(person: int, **kwargs: object) -> bytes:
    return orjson.dumps(gallery_item(person, **kwargs).model_dump(mode="json"))  # type: ignore[arg-type]


def _rows(rng: np.random.Generator, rows: int, dim: int) -> np.ndarray:  # type: ignore[type-arg]
    vectors = rng.standard_normal((rows, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def fast_biometrics(person_seed: int, capture: int, *, finger_dim: int = 128,
                    face_dim: int = 512, noise: float = 0.8, quality: float = 0.9
                    ) -> dict[str, object]:
    """`encode_biometrics(*SyntheticPerson(person_seed).capture(capture))`, the same vectors
    (the same random streams, drawn in one call per kind) at a third of the cost, so that the
    load generator does not starve the service it measures on a small machine."""
    rng = np.random.default_rng([person_seed, 0])
    fingers, face = _rows(rng, 10, finger_dim), _rows(rng, 1, face_dim)
    rng = np.random.default_rng([person_seed, capture + 1])
    fingers = fingers + noise * _rows(rng, 10, finger_dim)
    face = face + noise * _rows(rng, 1, face_dim)
    fingers = quality * fingers / np.linalg.norm(fingers, axis=1, keepdims=True)
    face = quality * face / np.linalg.norm(face)
    return {
        "fingers": {str(position + 1): encode_template(row.astype("<f4").tobytes())
                    for position, row in enumerate(fingers)},
        "face": encode_template(face[0].astype("<f4").tobytes()),
    }


class Probes:
    """Mated and non-mated probes against a gallery of `persons` persons."""

    def __init__(self, persons: int, *, rng: random.Random | None = None) -> None:
        self.persons = persons
        self.rng = rng or random.Random()
        self.references = ReferenceNumbers()
        self._checked = False

    def pick(self, traffic: tuple[Traffic, ...]) -> Traffic:
        return self.rng.choices(traffic, [t.weight for t in traffic])[0]

    def body(self, member_state: str, kind: Traffic) -> tuple[bytes, bool]:
        """A transmission's JSON body, and whether it is a mated probe."""
        mated = self.persons > 0 and self.rng.random() < kind.mated_share
        if mated:
            # Own data is compared only on request: a mate stored by another Member State.
            person = self.rng.randrange(self.persons)
            for _ in range(8):
                if member_state_of(person) != member_state:
                    break
                person = self.rng.randrange(self.persons)
            seed = GALLERY_SEED + person
        else:
            seed = STRANGER_SEED + self.rng.randrange(10**9)
        capture = 2 + self.rng.randrange(10**6)  # a fresh encounter, never the stored one
        now = dt.datetime.now(dt.UTC)
        body: dict[str, object] = {
            "reference_number": self.references.next(member_state, kind.category),
            "category": kind.category,
            "biometrics": fast_biometrics(seed, capture),
            "person": _person_fields(seed),
            "event": {"place": f"load test, {member_state}", "date": now.date().isoformat()},
            "taken_at": (now - dt.timedelta(minutes=20)).isoformat(),
            "operator_user_id": f"{member_state.lower()}-loadtest",
        }
        if kind.category in (4, 5):
            body.update(purpose="prevention of a terrorist offence", case_number="LT-2026-0001")
        encoded = orjson.dumps(body)
        if not self._checked:  # the first body of each kind against the schema, then trusted
            TransmissionRequest.model_validate_json(encoded)
            self._checked = True
        return encoded, mated
