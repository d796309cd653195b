"""Matcher configuration: dimensions, decision thresholds and the quality floor."""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["FINGER_POSITIONS", "MatcherConfig"]

# ISO/IEC 39794-4 / ANSI-NIST finger position codes: 1 right thumb .. 5 right little,
# 6 left thumb .. 10 left little.
FINGER_POSITIONS: tuple[int, ...] = tuple(range(1, 11))


@dataclass(frozen=True, slots=True)
class MatcherConfig:
    """Dimensions and thresholds; one instance is shared by validation, scoring and the gallery."""

    finger_dim: int = 128
    face_dim: int = 512
    # Decision threshold on the fused fingerprint score (sum of cosines / sqrt(fingers compared)).
    finger_threshold: float = 0.5
    # Decision threshold on the face cosine.
    face_threshold: float = 0.35
    # A template whose raw L2 norm is below this is unusable (norm encodes capture quality).
    min_quality: float = 0.3

    def __post_init__(self) -> None:
        if self.finger_dim < 1 or self.face_dim < 1:
            raise ValueError("finger_dim and face_dim must be positive")
        for name in ("finger_threshold", "face_threshold", "min_quality"):
            if not math.isfinite(getattr(self, name)):
                raise ValueError(f"{name} must be finite")
        # A zero vector cannot be normalised, so the floor must exclude it.
        if self.min_quality <= 0:
            raise ValueError("min_quality must be positive")
