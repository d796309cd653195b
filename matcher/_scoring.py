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

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

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


def fused_scores(
    a: npt.NDArray[np.float32], b: npt.NDArray[np.float32], counts: npt.NDArray[np.integer]
) -> npt.NDArray[np.float64]:
    """The fusion rule for n pairs of prepared vectors, in float64: the inner product of each
    pair divided by sqrt(|C|), `counts` holding |C| (0 for a pair of faces: the plain cosine).
    Unusable finger positions are zeros in prepared vectors, so the inner product is exactly
    the sum of cosines over the common usable positions. Every exact score (`compare`, the
    exact engine, the fast index's re-check) comes from here, so they agree to the bit."""
    raw: npt.NDArray[np.float64] = np.einsum("ij,ij->i", a.astype(np.float64),
                                             b.astype(np.float64))
    divisor: npt.NDArray[np.float64] = np.sqrt(np.maximum(counts, 1))
    return raw / divisor


def compare(a: Templates, b: Templates, config: MatcherConfig) -> Comparison | None:
    """Score two sets of templates one-to-one with the gallery's rule; None if not comparable.

    Raises TemplateError if either is malformed. No threshold is applied: the caller decides.
    """
    pa, pb = prepare(a, config), prepare(b, config)
    common = int(FINGER_COUNT[pa.finger_mask & pb.finger_mask])
    if common:
        score = fused_scores(pa.fingers[None], pb.fingers[None], np.array([common]))[0]
        return Comparison(float(score), Modality.FINGERPRINT, common)
    if pa.face is not None and pb.face is not None:
        cos = fused_scores(pa.face[None], pb.face[None], np.array([0]))[0]
        return Comparison(float(cos), Modality.FACE, 0)
    return None
