"""What both engines share: the metadata view a search reads, its parameters, and the ranking
of the hits it found."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ._scoring import Hit, Modality, SearchOutcome


@dataclass(frozen=True, slots=True)
class MetaView:
    """Per-row metadata captured under the gallery's read lock (row i is entry row i)."""

    entry_ids: npt.NDArray[np.int64]
    group: npt.NDArray[np.uint8]
    member_state: npt.NDArray[np.uint8]
    marked: npt.NDArray[np.bool_]
    alive: npt.NDArray[np.bool_]
    finger_mask: npt.NDArray[np.uint16]


@dataclass(frozen=True, slots=True)
class Query:
    """Search parameters shared by a batch of probes; thresholds already resolved."""

    finger_threshold: float
    face_threshold: float
    limit: int | None

    def threshold_for(self, fingers_compared: int | npt.NDArray[np.intp]) -> float:
        """The finger threshold for a part of fingerprint comparisons, the face one for a part
        of face comparisons (fingers compared 0); for parts with one count, as the fast
        engine's."""
        return self.finger_threshold if fingers_compared else self.face_threshold


# Parts of one probe's hits: (entry rows, fused scores, fingers compared: one count for the
# part or one per row; 0 for face comparisons).
Bucket = list[tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], int | npt.NDArray[np.intp]]]


def outcome(entry_ids: npt.NDArray[np.int64], bucket: Bucket, limit: int | None) -> SearchOutcome:
    """Hits from (entry rows, fused scores, fingers compared) parts: best first, ties by id."""
    if not bucket:
        return SearchOutcome(hits=())
    rows = np.concatenate([rows for rows, _, _ in bucket])
    scores = np.concatenate([scores for _, scores, _ in bucket])
    counts = np.concatenate(
        [np.broadcast_to(np.asarray(c, dtype=np.int64), r.shape) for r, _, c in bucket]
    )
    ids = entry_ids[rows]
    order = np.lexsort((ids, -scores))[:limit]
    return SearchOutcome(
        hits=tuple(
            Hit(
                entry_id=entry_id,
                score=score,
                modality=Modality.FINGERPRINT if count else Modality.FACE,
                fingers_compared=count,
            )
            for entry_id, score, count in zip(
                ids[order].tolist(), scores[order].tolist(), counts[order].tolist(), strict=True
            )
        )
    )
