"""Matcher configuration: dimensions, decision thresholds and the quality floor."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["FINGER_POSITIONS", "FastIndexParams", "IndexKind", "MatcherConfig"]

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
    # Ceiling of a template's raw norm: quality lives in (0, 1] by convention, so a norm far
    # beyond it is not a capture (all-1e20 vectors passed as top quality and hit each other).
    max_norm: float = 10.0
    # Least spread of a template's values around their mean, relative to its norm (std / rms):
    # about 1 for any real feature vector, 0 for a constant one, which carries no identity.
    min_spread: float = 0.1

    def __post_init__(self) -> None:
        if self.finger_dim < 1 or self.face_dim < 1:
            raise ValueError("finger_dim and face_dim must be positive")
        for name in ("finger_threshold", "face_threshold", "min_quality", "max_norm",
                     "min_spread"):
            if not math.isfinite(getattr(self, name)):
                raise ValueError(f"{name} must be finite")
        # A zero vector cannot be normalised, so the floor must exclude it.
        if self.min_quality <= 0:
            raise ValueError("min_quality must be positive")
        if self.max_norm <= self.min_quality:
            raise ValueError("max_norm must exceed min_quality")


class IndexKind(StrEnum):
    """How the gallery holds and scans its vectors."""

    EXACT = "exact"  # float32 flat indexes: every score exact (the oracle)
    FAST = "fast"  # 4-bit PQ fast-scan candidates, re-ranked with 4-bit copies of the vectors


@dataclass(frozen=True, slots=True)
class FastIndexParams:
    """Tuning of the fast index (measured by `abis bench`)."""

    # Dimensions per 4-bit product-quantizer sub-vector: smaller is more accurate and slower
    # (the scan costs in proportion to the number of sub-vectors). Must divide the dimensions,
    # else the largest of 8, 4, 2, 1 that does is used.
    subvector_dim: int = 4
    # First top-k of the largest shard, the other shards' in proportion to their rows (at
    # least 16); grown x4 while the tail of the re-ranked top-k still holds a score near the
    # threshold, so hits are not cut off by k.
    candidates: int = 64
    # With a template source (see Gallery), every candidate whose 4-bit score lies above a
    # threshold minus this band is re-scored exactly from its stored templates: 4-bit
    # rounding (error ~0.014 on a fused score, so 0.07 is 5 sigma) must not decide a pair,
    # and reported scores are exact. Without a source, 4-bit scores decide.
    recheck_band: float = 0.07

    def __post_init__(self) -> None:
        if self.subvector_dim < 1 or self.candidates < 1:
            raise ValueError("subvector_dim and candidates must be positive")
        if not (math.isfinite(self.recheck_band) and self.recheck_band >= 0):
            raise ValueError("recheck_band must be a finite number >= 0")
