"""Exact search as dense matrix products: a batch of probes against every row, chunk by chunk.

The fused score of a (probe, row) pair needs the raw inner product and |C|, the number of finger
positions usable in both (the popcount of the two masks). A FAISS range search can only
threshold a raw inner product, so a FAISS-only search takes one scan per (probe mask, |C|)
subset: with the varied masks of real captures, one full scan of the gallery per probe. Here one
BLAS product per chunk of rows serves the whole batch, and |C|, the threshold and eligibility
are applied to its entries afterwards. Measured on 2 cores (1,280-d finger rows, 200k rows): a
product with 64 probes runs at ~140 GFLOP/s against ~30 for one, so a batch of 64 costs about
15 single probes, not 64.

The float32 product only selects candidates, with a little slack; a candidate's score is then
recomputed in float64 from its two vectors (as `compare` does) and compared with the threshold.
So rounding cannot drop a pair that reaches it, and a score does not depend on which other
probes shared the batch.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ._config import FINGER_POSITIONS
from ._eligibility import Eligibility, eligible_mask
from ._prepared import FINGER_COUNT, Prepared
from ._scoring import SearchOutcome, fused_scores
from ._search import Bucket, MetaView, Query, outcome

_CHUNK_ROWS = 16384  # rows per product: a 64 x 16384 float32 block is 4 MiB
_SLACK = 1e-5
_MAX_COUNT = len(FINGER_POSITIONS)

IntArray = npt.NDArray[np.intp]
# (probe index, source row) pairs and their raw products -> (candidate, approximate score,
# |C| (0 for faces), entry row) per pair
Judge = Callable[
    [IntArray, npt.NDArray[np.int64], npt.NDArray[np.float32]],
    tuple[npt.NDArray[np.bool_], npt.NDArray[np.float64], IntArray, npt.NDArray[np.int64]],
]


@dataclass(frozen=True, slots=True)
class DenseView:
    """What an exact search reads: the metadata and the normalised vectors."""

    meta: MetaView
    fingers: npt.NDArray[np.float32]  # (rows, 10 * finger_dim); row i is entry row i
    faces: npt.NDArray[np.float32]  # (face rows, face_dim)
    face_owner: npt.NDArray[np.int64]  # face row -> entry row


def search_dense(
    view: DenseView, probes: Sequence[Prepared], eligibles: Sequence[Eligibility], query: Query
) -> list[SearchOutcome]:
    meta = view.meta
    allowed, which = _allowed(meta, eligibles)
    masks = np.array([p.finger_mask for p in probes], dtype=np.uint16)
    buckets: list[Bucket] = [[] for _ in probes]

    with_fingers = np.flatnonzero(masks)
    if with_fingers.size and len(view.fingers):
        probe_masks, probe_allowed = masks[with_fingers], which[with_fingers]
        threshold = query.finger_threshold

        def judge_fingers(
            bi: IntArray, rows: npt.NDArray[np.int64], raw: npt.NDArray[np.float32]
        ) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.float64], IntArray,
                   npt.NDArray[np.int64]]:
            counts = FINGER_COUNT[probe_masks[bi] & meta.finger_mask[rows]].astype(np.intp)
            scores = raw.astype(np.float64) / np.sqrt(np.maximum(counts, 1))
            kept = (counts > 0) & allowed[probe_allowed[bi], rows]
            return kept & (scores >= threshold - _SLACK), scores, counts, rows

        # raw = score * sqrt(|C|) with 1 <= |C| <= 10: no pair below this can reach the threshold
        low = min(threshold, threshold * math.sqrt(_MAX_COUNT)) - _SLACK
        vectors = np.stack([probes[i].fingers for i in with_fingers.tolist()])
        _scan(vectors, view.fingers, None, judge_fingers, (low, threshold), query.limit,
              [buckets[i] for i in with_fingers.tolist()])

    with_face = [i for i, p in enumerate(probes) if p.face is not None]
    if with_face and len(view.faces):
        probe_masks, probe_allowed = masks[with_face], which[with_face]
        # Art 28: the face decides only where the pair shares no usable finger position. Only
        # the face rows whose finger mask is disjoint from some probe's are read at all.
        every_mask = np.arange(1 << _MAX_COUNT, dtype=np.uint16)
        disjoint = ((every_mask[:, None] & probe_masks[None, :]) == 0).any(axis=1)
        owners = view.face_owner
        needed = disjoint[meta.finger_mask[owners]]
        subset = None if needed.all() else np.flatnonzero(needed)
        face_threshold = query.face_threshold

        def judge_faces(
            bi: IntArray, source: npt.NDArray[np.int64], raw: npt.NDArray[np.float32]
        ) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.float64], IntArray,
                   npt.NDArray[np.int64]]:
            rows = owners[source]
            scores = raw.astype(np.float64)
            kept = (FINGER_COUNT[probe_masks[bi] & meta.finger_mask[rows]] == 0)
            kept &= allowed[probe_allowed[bi], rows] & (scores >= face_threshold - _SLACK)
            return kept, scores, np.zeros(rows.shape, np.intp), rows

        if subset is None or subset.size:
            faces = np.stack([face for i in with_face if (face := probes[i].face) is not None])
            _scan(faces, view.faces, subset, judge_faces, (face_threshold - _SLACK, face_threshold),
                  query.limit, [buckets[i] for i in with_face])

    return [outcome(meta.entry_ids, bucket, query.limit) for bucket in buckets]


def _allowed(
    meta: MetaView, eligibles: Sequence[Eligibility]
) -> tuple[npt.NDArray[np.bool_], IntArray]:
    """One row mask per distinct eligibility of the batch (removed rows excluded), and which
    mask each probe uses."""
    index: dict[Eligibility, int] = {}
    which = np.array([index.setdefault(e, len(index)) for e in eligibles], dtype=np.intp)
    masks = [eligible_mask(e, meta.group, meta.member_state, meta.marked) & meta.alive
             for e in index]
    return np.stack(masks) if masks else np.zeros((0, len(meta.alive)), np.bool_), which


def _scan(
    queries: npt.NDArray[np.float32],
    table: npt.NDArray[np.float32],
    subset: npt.NDArray[np.int64] | None,
    judge: Judge,
    bounds: tuple[float, float],
    limit: int | None,
    buckets: list[Bucket],
) -> None:
    """Every query against the table's rows (or `subset` of them), appending to each query's
    bucket the pairs that reach the threshold: all of them, or with a limit, the best `limit`
    per chunk (near-ties kept, so the final ranking by exact score, then id, is right).
    `bounds`: no raw product below the first can reach the threshold, the second."""
    low, threshold = bounds
    total = len(table) if subset is None else subset.size
    for start in range(0, total, _CHUNK_ROWS):
        stop = min(total, start + _CHUNK_ROWS)
        if subset is None:
            source = np.arange(start, stop, dtype=np.int64)
            block = table[start:stop]
        else:
            source = subset[start:stop]
            block = table[source]
        raw = queries @ block.T
        if limit is None:
            bi, ri = np.nonzero(raw >= low)
        else:
            bi, ri = np.divmod(np.arange(raw.size, dtype=np.intp), raw.shape[1])
        kept, approximate, counts, rows = judge(bi, source[ri], raw[bi, ri])
        if limit is not None and raw.shape[1] > limit:
            ranked = np.where(kept, approximate, -np.inf).reshape(raw.shape)
            kth = np.partition(ranked, raw.shape[1] - limit, axis=1)[:, raw.shape[1] - limit]
            kept &= (ranked >= kth[:, None] - _SLACK).reshape(-1)
        bi, ri, counts, rows = bi[kept], ri[kept], counts[kept], rows[kept]
        scores = fused_scores(queries[bi], block[ri], counts)
        exact = scores >= threshold
        bi, scores, counts, rows = bi[exact], scores[exact], counts[exact], rows[exact]
        # Pairs come out grouped by query (row-major), so each query's are one slice.
        edges = np.searchsorted(bi, np.arange(len(queries) + 1))
        for q, (a, b) in enumerate(zip(edges[:-1].tolist(), edges[1:].tolist(), strict=True)):
            if b > a:
                buckets[q].append((rows[a:b], scores[a:b], counts[a:b]))
