"""The fusion rule and the shapes of its results.

Probe P against entry E, with C the finger positions usable in both:
  C non-empty   -> sum of cos(P_p, E_p) over C, divided by sqrt(|C|)   (fingerprint)
  else, faces   -> cos(face_P, face_E)                                  (face)
  else          -> not comparable, never a hit.
Impostor cosines of random d-dim unit vectors have std 1/sqrt(d); dividing the sum by sqrt(|C|)
keeps the impostor distribution the same whatever the finger count, so one threshold serves
every count. The face is compared only when fingerprints are unusable or absent for that pair
(Eurodac Regulation, Art 28).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from ._config import MatcherConfig
from ._prepared import FINGER_COUNT, prepare
from ._templates import Templates

__all__ = ["Comparison", "Hit", "Modality", "SearchOutcome", "compare"]


class Modality(StrEnum):
    FINGERPRINT = "fingerprint"
    FACE = "face"


@dataclass(frozen=True, slots=True)
class Comparison:
    """The fused score of one pair; `fingers_compared` is 0 for a face comparison."""

    score: float
    modality: Modality
    fingers_compared: int


@dataclass(frozen=True, slots=True)
class Hit:
    """A gallery entry whose fused score reached the threshold of its modality."""

    entry_id: int
    score: float
    modality: Modality
    fingers_compared: int


@dataclass(frozen=True, slots=True)
class SearchOutcome:
    """Hits sorted by score descending, ties by entry_id ascending."""

    hits: tuple[Hit, ...]


def compare(a: Templates, b: Templates, config: MatcherConfig) -> Comparison | None:
    """Score two sets of templates one-to-one with the gallery's rule; None if not comparable.

    Raises TemplateError if either is malformed. No threshold is applied: the caller decides.
    """
    pa, pb = prepare(a, config), prepare(b, config)
    common = int(FINGER_COUNT[pa.finger_mask & pb.finger_mask])
    if common:
        # Unusable positions are zeros in the prepared vectors, so the dot product is exactly the
        # sum of cosines over the common usable positions.
        raw = float(np.dot(pa.fingers.astype(np.float64), pb.fingers.astype(np.float64)))
        return Comparison(raw / math.sqrt(common), Modality.FINGERPRINT, common)
    if pa.face is not None and pb.face is not None:
        cos = float(np.dot(pa.face.astype(np.float64), pb.face.astype(np.float64)))
        return Comparison(cos, Modality.FACE, 0)
    return None
