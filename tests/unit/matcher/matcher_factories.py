"""Factories for matcher unit tests: small dimensions and vectors with known cosines.

A plain module rather than fixtures in a conftest.py: tests import exactly what they use.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from matcher import Eligibility, MatcherConfig, Templates

DIM = 4
CONFIG = MatcherConfig(finger_dim=DIM, face_dim=DIM, finger_threshold=0.5, face_threshold=0.35)
ALL_GROUPS = Eligibility(groups=frozenset(range(256)))

Vec = npt.NDArray[np.float32]


def unit(axis: int, norm: float = 1.0) -> Vec:
    """A basis vector of the small test dimension, scaled to `norm` (the quality)."""
    vec = np.zeros(DIM, dtype=np.float32)
    vec[axis] = norm
    return vec


def at_cosine(cos: float, norm: float = 1.0) -> Vec:
    """A vector whose cosine with unit(0) is exactly `cos` (up to float32 rounding)."""
    return np.array([cos, math.sqrt(1.0 - cos * cos), 0.0, 0.0], dtype=np.float32) * norm


def templates(fingers: Mapping[int, Vec], face: Vec | None = None) -> Templates:
    return Templates(fingers=dict(fingers), face=face)


def random_templates(
    rng: np.random.Generator, positions: tuple[int, ...] = tuple(range(1, 11)), face: bool = False
) -> Templates:
    """Random templates, every one usable (norm 1)."""

    def draw() -> Vec:
        vec = rng.standard_normal(DIM)
        return (vec / np.linalg.norm(vec)).astype(np.float32)

    return Templates(fingers={p: draw() for p in positions}, face=draw() if face else None)
