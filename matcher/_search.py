"""Searching the flat indexes: eligibility as FAISS selectors, one pass per fingers-compared count.

Why one FAISS call per value of |C| (the number of finger positions usable in both probe and
entry): within one such subset the fused score is raw / sqrt(|C|) with a constant divisor, so
  - a range search at radius threshold * sqrt(|C|) returns exactly the hits, whatever the sign of
    the threshold (a single range search over all counts would have to use the loosest radius and
    would return every non-comparable entry, raw = 0, once the threshold is <= 0), and
  - the top-k by raw inner product is the top-k by score, so `limit` is exact.
The subsets are disjoint, so together they still scan each eligible row once.

Selectors rather than one index per group, measured by benchmarks/eligibility.py (100k entries,
10 x 128-d fingers, a typical eligibility excluding 30% of the gallery, 2 cores, two runs):
26-30 searches/s with selectors, 25-27 with per-group indexes (selectors 1.06-1.11x), 25-28
unfiltered. A flat scan is memory-bound, so the two are about equal, and selectors need no second
structure: marks, removals and the excluded Member State are bits in the same mask instead of
post-filters over extra indexes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import faiss
import numpy as np
import numpy.typing as npt

from ._eligibility import Eligibility, eligible_mask
from ._prepared import FINGER_COUNT, Prepared
from ._scoring import Hit, Modality, SearchOutcome

# FAISS keeps range-search results strictly above the radius and accumulates in float32; the
# radius is lowered by this much and the exact comparison with the threshold is done afterwards.
_RADIUS_SLACK = 1e-5

_Matches = tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]  # (index rows, inner products)


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
class GalleryView:
    """What an exact search reads: the metadata and the two flat indexes."""

    meta: MetaView
    fingers: faiss.IndexFlatIP
    faces: faiss.IndexFlatIP
    face_entry_row: npt.NDArray[np.int64]  # face index row -> entry row


@dataclass(frozen=True, slots=True)
class Query:
    """Search parameters shared by a group of probes; thresholds already resolved."""

    eligible: Eligibility
    finger_threshold: float
    face_threshold: float
    limit: int | None


def _scan(
    index: faiss.IndexFlatIP,
    vectors: npt.NDArray[np.float32],
    subset: npt.NDArray[np.bool_],
    radius: float,
    limit: int | None,
) -> list[_Matches]:
    """Per query vector, the rows of `subset` with inner product above `radius` (or the top
    `limit` of them by inner product, when a limit is given)."""
    bits = np.packbits(subset, bitorder="little")
    # `bits` must outlive the call: the selector only holds a pointer into it.
    selector = faiss.IDSelectorBitmap(bits.size, faiss.swig_ptr(bits))
    params = faiss.SearchParameters()
    params.sel = selector
    if limit is None:
        lims, dist, rows = index.range_search(vectors, radius, params=params)
        return [(rows[a:b], dist[a:b]) for a, b in zip(lims[:-1], lims[1:], strict=True)]
    k = min(limit, int(np.count_nonzero(subset)))
    dist, rows = index.search(vectors, k, params=params)
    found = rows >= 0
    return [(rows[i][found[i]], dist[i][found[i]]) for i in range(len(vectors))]


def search_group(
    view: GalleryView, probes: Sequence[Prepared], query: Query
) -> list[SearchOutcome]:
    """Search probes that share a finger mask, face presence and eligibility: one FAISS call
    per subset serves them all."""
    first = probes[0]
    meta = view.meta
    eligible = eligible_mask(query.eligible, meta.group, meta.member_state, meta.marked)
    eligible &= meta.alive
    counts = FINGER_COUNT[meta.finger_mask & first.finger_mask]
    found: list[list[tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], int]]] = [
        [] for _ in probes
    ]

    if first.finger_mask:
        comparable = eligible & (counts > 0)
        finger_vectors = np.stack([p.fingers for p in probes])
        for count in np.unique(counts[comparable]).tolist():
            root = math.sqrt(count)
            subset = comparable & (counts == count)
            radius = query.finger_threshold * root - _RADIUS_SLACK
            matches = _scan(view.fingers, finger_vectors, subset, radius, query.limit)
            for bucket, (rows, raw) in zip(found, matches, strict=True):
                scores = raw.astype(np.float64) / root
                keep = scores >= query.finger_threshold
                bucket.append((rows[keep], scores[keep], count))

    if first.face is not None and view.faces.ntotal:
        owners = view.face_entry_row
        # Art 28: the face decides only where the pair has no usable finger position in common.
        subset = eligible[owners] & (counts[owners] == 0)
        if subset.any():
            # Grouping guarantees every probe of the group has a usable face here.
            face_vectors = np.stack([p.face for p in probes if p.face is not None])
            radius = query.face_threshold - _RADIUS_SLACK
            matches = _scan(view.faces, face_vectors, subset, radius, query.limit)
            for bucket, (rows, raw) in zip(found, matches, strict=True):
                scores = raw.astype(np.float64)
                keep = scores >= query.face_threshold
                bucket.append((owners[rows[keep]], scores[keep], 0))

    return [outcome(meta.entry_ids, bucket, query.limit) for bucket in found]


Bucket = list[tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], int]]


def outcome(entry_ids: npt.NDArray[np.int64], bucket: Bucket, limit: int | None) -> SearchOutcome:
    """Hits from (entry rows, fused scores, fingers compared) parts: best first, ties by id."""
    if not bucket:
        return SearchOutcome(hits=())
    rows = np.concatenate([rows for rows, _, _ in bucket])
    scores = np.concatenate([scores for _, scores, _ in bucket])
    counts = np.concatenate([np.full(rows.size, c, dtype=np.int64) for rows, _, c in bucket])
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
