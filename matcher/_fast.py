"""The fast engine: 4-bit PQ fast-scan codes find candidates, 4-bit copies of the vectors rank
them, the stored templates decide.

Why this shape (measured by `abis bench`): an exact flat scan reads 5 KiB per dataset per
search; a 4-bit product-quantization code of the ten fingers is 160 bytes, scanned with SIMD
table look-ups (FAISS fast-scan), so the scan is many times cheaper. PQ scores are only
approximate, so each probe takes the top-k rows by PQ score and re-scores them with 4-bit
copies of the normalised vectors (`Nibbles`: error ~0.014 on a fused score, against ~0.09 for
the spread of impostor scores), which rank them well but are too coarse to decide a pair.

Shards. The fused score divides by sqrt(|C|), C the finger positions usable in both, so ranking
by raw inner product is only right among rows with the same |C|. Finger rows are therefore
sharded by their number of usable fingers: for a probe with ten usable fingers |C| is then one
number per shard (for other probes it varies by little), and the candidates' fused scores are
computed exactly from their masks. Each sub-quantizer has one zero centroid, so an unusable
finger's zero slot adds nothing to an approximate score. Face rows are sharded by finger mask,
so that only the shards sharing no usable finger with the probe are searched by face (Art 28).
The first top-k of a shard is in proportion to its rows (see `_first_k`).

Eligibility, marks and removals are applied to the candidates (FAISS fast-scan takes no
selector); k grows while the re-ranked tail still comes near the threshold, so hits are not
lost to ineligible or removed rows ranked above them.

Given a template source (the store, in the service), every candidate the reply can report --
4-bit score at least the threshold minus `recheck_band` -- is re-scored exactly from its
templates (float64, as `compare`), so decisions and reported scores are the exact ones. With
int8 copies and a narrow band, the only disagreements measured at 100,000 entries were
rounding at the threshold (exact 0.5004 scored below 0.5); 4-bit copies halve the memory of a
dataset's vectors, and about one candidate per search at 1M needs the store.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import faiss
import numpy as np
import numpy.typing as npt

from ._columns import Column
from ._config import FINGER_POSITIONS, FastIndexParams, MatcherConfig
from ._eligibility import Eligibility, eligible_mask
from ._nibbles import Nibbles
from ._prepared import FINGER_COUNT, Prepared, PreparedBatch, prepare_batch
from ._scoring import SearchOutcome, fused_scores
from ._search import Bucket, MetaView, Query, outcome
from ._templates import TemplateSource

State = dict[str, npt.NDArray[np.generic]]

_SLOTS = len(FINGER_POSITIONS)
_TRAIN_ROWS = 2048
_TRAIN_SEED = 0x61626973
_MIN_CANDIDATES = 16  # first top-k of the smallest parts (see FastEngine._first_k)
_GATHER_ROWS = 16384  # candidate rows re-ranked at once: 16384 x 1280 float32 = 80 MiB


def _subvector_dim(dim: int, preferred: int) -> int:
    for size in (preferred, 8, 4, 2, 1):
        if size <= dim and dim % size == 0:
            return size
    return 1


@functools.lru_cache(maxsize=8)
def _codebook(slot_dim: int, dsub: int, seed: int) -> npt.NDArray[np.float32]:
    """16 centroids for dsub-dimensional sub-vectors of random unit slot vectors."""
    rng = np.random.default_rng(seed)
    sample = rng.standard_normal((_TRAIN_ROWS, slot_dim), dtype=np.float32)
    sample /= np.linalg.norm(sample, axis=1, keepdims=True)
    kmeans = faiss.Kmeans(dsub, 16, niter=25, seed=seed % (2**31))
    kmeans.train(np.ascontiguousarray(sample.reshape(-1, dsub)))
    codebook = np.array(kmeans.centroids, dtype=np.float32)
    # One centroid becomes exactly zero, so that an unusable finger's zero slot is coded as
    # zero and adds nothing to an approximate score.
    codebook[np.argmin(np.linalg.norm(codebook, axis=1))] = 0.0
    codebook.setflags(write=False)
    return codebook


def _trained(dim: int, slot_dim: int, preferred: int, seed: int) -> faiss.IndexPQFastScan:
    """An empty, trained fast-scan index. Every sub-vector of a random unit slot has the same
    distribution (the model of the synthetic templates), so one 16-centroid codebook is trained
    on such sub-vectors and shared by all sub-quantizers: quick to train at startup, and the
    codebook never depends on, or leaks, enrolled data."""
    dsub = _subvector_dim(slot_dim, preferred)
    codebook = _codebook(slot_dim, dsub, seed)
    index = faiss.IndexPQFastScan(dim, dim // dsub, 4, faiss.METRIC_INNER_PRODUCT)
    centroids = np.tile(codebook[None], (dim // dsub, 1, 1)).astype(np.float32)
    faiss.copy_array_to_vector(centroids.ravel(), index.pq.centroids)
    index.is_trained = True
    return index


def _fast_scan_bytes(index: faiss.IndexPQFastScan) -> int:
    blocks = (index.ntotal + index.bbs - 1) // index.bbs
    return int(blocks * index.bbs * index.M2 // 2)


@dataclass(frozen=True, slots=True)
class _Rerank:
    """What re-ranking reads, by gallery row: the 4-bit vectors of one modality and the rows'
    finger masks."""

    vectors: Nibbles
    row_masks: npt.NDArray[np.uint16]


class _Part:
    """One fast-scan index and, for each of its rows, the gallery row it holds."""

    def __init__(self, template: faiss.Index) -> None:
        self.index = cast(faiss.IndexPQFastScan, faiss.clone_index(template))
        self.rows = Column(np.int64)

    def add(self, vectors: npt.NDArray[np.float32], rows: npt.NDArray[np.int64]) -> None:
        if not len(vectors):
            # FAISS's fast-scan add of zero rows to an empty index crashes the process
            # (segmentation fault): a batch without faces into a gallery without faces yet.
            return
        self.index.add(vectors)
        self.rows.extend(rows)

    def compact(self, alive: npt.NDArray[np.bool_], new_row: npt.NDArray[np.int64]) -> None:
        keep = alive[self.rows.values]
        if keep.all():
            self.rows.values[:] = new_row[self.rows.values]
            return
        bits = np.packbits(~keep, bitorder="little")
        self.index.remove_ids(faiss.IDSelectorBitmap(bits.size, faiss.swig_ptr(bits)))
        kept = self.rows.values[keep]
        self.rows.keep(keep)
        self.rows.values[:] = new_row[kept]


class FastEngine:
    kind = "fast"

    def __init__(
        self, config: MatcherConfig, params: FastIndexParams, source: TemplateSource | None = None
    ) -> None:
        self._config = config
        self._params = params
        self._source = source
        self._band = params.recheck_band if source is not None else 0.0
        self.rechecked = 0  # candidates re-scored from the source so far (for benchmarks)
        finger_width = _SLOTS * config.finger_dim
        self._finger_template = _trained(
            finger_width, config.finger_dim, params.subvector_dim, _TRAIN_SEED
        )
        self._face_template = _trained(
            config.face_dim, config.face_dim, params.subvector_dim, _TRAIN_SEED + 1
        )
        self._finger_q = Nibbles(finger_width)
        self._face_q = Nibbles(config.face_dim)
        self._fingers: dict[int, _Part] = {}  # usable finger count -> rows with that count
        self._faces: dict[int, _Part] = {}  # finger mask -> rows with that mask and a face
        self._all_faces = _Part(self._face_template)  # every row with a face: face-only probes

    # -- writes -----------------------------------------------------------------------------

    def append(self, first_row: int, prepared: PreparedBatch) -> None:
        n = len(prepared)
        rows = np.arange(first_row, first_row + n, dtype=np.int64)
        self._finger_q.extend(prepared.fingers)
        faces = np.zeros((n, self._config.face_dim), dtype=np.float32)
        faces[prepared.face_owners] = prepared.faces
        self._face_q.extend(faces)

        masks = prepared.finger_masks
        sizes = FINGER_COUNT[masks]
        for size in np.unique(sizes[sizes > 0]).tolist():
            chosen = sizes == size
            self._part(self._fingers, size, self._finger_template).add(
                prepared.fingers[chosen], rows[chosen]
            )
        self._all_faces.add(prepared.faces, rows[prepared.face_owners])
        face_masks = masks[prepared.face_owners]
        for mask in np.unique(face_masks).tolist():
            chosen = face_masks == mask
            self._part(self._faces, mask, self._face_template).add(
                prepared.faces[chosen], rows[prepared.face_owners[chosen]]
            )

    def _part(self, parts: dict[int, _Part], mask: int, template: faiss.Index) -> _Part:
        part = parts.get(mask)
        if part is None:
            part = parts[mask] = _Part(template)
        return part

    def compact(self, alive: npt.NDArray[np.bool_]) -> None:
        new_row = np.cumsum(alive, dtype=np.int64) - 1
        for part in (*self._fingers.values(), *self._faces.values(), self._all_faces):
            part.compact(alive, new_row)
        for vectors in (self._finger_q, self._face_q):
            vectors.keep(alive)

    # -- search -----------------------------------------------------------------------------

    def search(
        self,
        meta: MetaView,
        probes: Sequence[Prepared],
        eligibles: Sequence[Eligibility],
        query: Query,
    ) -> list[SearchOutcome]:
        buckets: list[Bucket] = [[] for _ in probes]
        with_fingers = [i for i, p in enumerate(probes) if p.finger_mask]
        if with_fingers:
            vectors = np.stack([probes[i].fingers for i in with_fingers])
            probe_masks = np.array([probes[i].finger_mask for i in with_fingers], np.uint16)
            largest = _largest(self._fingers)
            for part in self._fingers.values():
                found = self._candidates(
                    part, largest, vectors, probe_masks,
                    _Rerank(self._finger_q, meta.finger_mask),
                    query.finger_threshold, query.limit,
                )
                floor = query.finger_threshold - self._band
                for i, (rows, scores, counts) in zip(with_fingers, found, strict=True):
                    # Most probes have no candidate near the threshold in most parts.
                    near = scores >= floor
                    if not near.any():
                        continue
                    rows, scores, counts = rows[near], scores[near], counts[near]
                    for count in np.unique(counts).tolist():
                        chosen = counts == count
                        buckets[i].append((rows[chosen], scores[chosen], count))
        # Art 28: the face decides for the rows that share no usable finger with the probe:
        # for a probe without fingers every row (one index holds them all), else the rows of
        # the masks disjoint from the probe's (for ten-finger probes only rows without fingers).
        with_face = [(i, p.finger_mask) for i, p in enumerate(probes) if p.face is not None]
        largest_face = _largest(self._faces)
        searches = [(self._all_faces, self._all_faces.index.ntotal,
                     [i for i, pm in with_face if not pm])]
        searches += [(part, largest_face, [i for i, pm in with_face if pm and not pm & mask])
                     for mask, part in self._faces.items()]
        for part, largest, members in searches:
            if not members:
                continue
            faces = np.stack([face for i in members if (face := probes[i].face) is not None])
            found = self._candidates(
                part, largest, faces, None,
                _Rerank(self._face_q, meta.finger_mask),
                query.face_threshold, query.limit,
            )
            for i, (rows, scores, _) in zip(members, found, strict=True):
                near = scores >= query.face_threshold - self._band
                if near.any():
                    buckets[i].append((rows[near], scores[near], 0))
        admitted = [self._admitted(meta, bucket, eligible)
                    for bucket, eligible in zip(buckets, eligibles, strict=True)]
        if self._band:
            self._recheck(meta, probes, admitted, query)
        return [outcome(meta.entry_ids, bucket, query.limit) for bucket in admitted]

    def _candidates(
        self,
        part: _Part,
        largest: int,
        queries: npt.NDArray[np.float32],
        probe_masks: npt.NDArray[np.uint16] | None,
        rerank: _Rerank,
        threshold: float,
        limit: int | None,
    ) -> list[tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.intp]]]:
        """Per query: the rows of the part's top-k by PQ score, their re-ranked fused scores
        and fingers compared (all 0 for faces, `probe_masks` None), comparable rows only; k
        grows x4 for the queries whose re-ranked tail still reaches the threshold and, with a
        limit, that have fewer than `limit` candidates reaching it (a top-k search with no
        threshold, as the evaluation's, would otherwise grow to the whole gallery)."""
        total = part.index.ntotal
        empty = (np.empty(0, np.int64), np.empty(0, np.float64), np.empty(0, np.intp))
        found = [empty] * len(queries)
        k = min(total, max(self._first_k(part, largest), limit or 0))
        pending = np.arange(len(queries))
        while k and pending.size:
            grow: list[int] = []
            # Re-rank a few queries at a time: the gathered block is (queries, k, dim) floats.
            step = max(1, _GATHER_ROWS // k)
            for start in range(0, pending.size, step):
                some = pending[start:start + step]
                for i, (rows, scores, counts, more) in zip(some.tolist(), self._reranked(
                        part, queries[some], None if probe_masks is None else probe_masks[some],
                        rerank, k), strict=True):
                    found[i] = (rows, scores, counts)
                    # Grow while the tail still reaches the threshold (a hit may lie beyond
                    # k) and, with a limit, fewer than `limit` candidates reach it.
                    reached = int(np.count_nonzero(scores >= threshold))
                    if (k < total and (more >= threshold - self._band).any()
                            and (limit is None or reached < limit)):
                        grow.append(i)
            pending = np.asarray(grow, dtype=np.int64)
            k = min(total, 4 * k)
        return found

    def _first_k(self, part: _Part, largest: int) -> int:
        """The first top-k of a part: `candidates` for the largest part of its kind (`largest`
        rows), in proportion to the rows for the others (at least _MIN_CANDIDATES). An impostor
        outranks a mate by PQ score with some small chance per row, so the expected count of
        rows above a mate grows with the part's rows: a part a tenth the size needs a tenth of
        the k for the same chance of losing the mate, and the growth rule still extends k
        wherever the re-ranked tail comes within the band of the threshold."""
        share = part.index.ntotal / max(largest, 1)
        return max(_MIN_CANDIDATES, math.ceil(self._params.candidates * share))

    def _reranked(
        self,
        part: _Part,
        queries: npt.NDArray[np.float32],
        probe_masks: npt.NDArray[np.uint16] | None,
        rerank: _Rerank,
        k: int,
    ) -> list[tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.intp],
                    npt.NDArray[np.float64]]]:
        """Per query: the part's top-k rows by PQ score that are comparable, their int8 fused
        scores and fingers compared, and the scores of the last quarter of the top-k."""
        _, local = part.index.search(queries, k)
        valid = local >= 0
        rows = part.rows.values[np.where(valid, local, 0)]
        raw = rerank.vectors.inner_products(rows, queries)
        if probe_masks is None:
            counts = np.zeros(rows.shape, dtype=np.intp)
            roots = np.ones(rows.shape)
        else:
            counts = FINGER_COUNT[rerank.row_masks[rows] & probe_masks[:, None]].astype(np.intp)
            valid &= counts > 0
            roots = np.sqrt(np.maximum(counts, 1))
        scores = raw / roots
        return [(rows[j][valid[j]], scores[j][valid[j]], counts[j][valid[j]],
                 scores[j][-max(1, k // 4):]) for j in range(len(queries))]

    @staticmethod
    def _admitted(meta: MetaView, bucket: Bucket, eligible: Eligibility) -> Bucket:
        """The bucket's candidates (all near or above their threshold) that are alive and
        eligible."""
        kept: Bucket = []
        for rows, scores, count in bucket:
            ok = meta.alive[rows] & eligible_mask(
                eligible, meta.group[rows], meta.member_state[rows], meta.marked[rows])
            kept.append((rows[ok], scores[ok], count))
        return kept

    def _recheck(
        self, meta: MetaView, probes: Sequence[Prepared], buckets: list[Bucket], query: Query
    ) -> None:
        """Re-score exactly, in place, every candidate the reply can report: all the admitted
        ones (within the band below a threshold or above it), or with a limit the 2 x limit
        best by 4-bit score; keep those that reach their threshold. So decisions and reported
        scores are exact, and 4-bit scores only rank. One call to the source serves the whole
        batch; an entry it no longer holds (erased meanwhile) is dropped."""
        assert self._source is not None
        chosen = [_best(bucket, query.limit) for bucket in buckets]
        ids = sorted({int(entry_id)
                      for bucket, flags in zip(buckets, chosen, strict=True)
                      for (rows, _, _), flag in zip(bucket, flags, strict=True)
                      for entry_id in meta.entry_ids[rows[flag]].tolist()})
        if not ids:
            return
        found = self._source(ids)
        held = [entry_id for entry_id in ids if entry_id in found]
        prepared = prepare_batch([found[entry_id] for entry_id in held], self._config)
        exact = dict(zip(held, prepared.items(), strict=True))
        self.rechecked += len(ids)
        for i, (bucket, flags) in enumerate(zip(buckets, chosen, strict=True)):
            for j, ((rows, scores, count), flag) in enumerate(zip(bucket, flags, strict=True)):
                threshold = query.threshold_for(count)
                scores = scores.copy()
                keep = np.zeros(len(rows), dtype=np.bool_)
                for k in np.flatnonzero(flag).tolist():
                    entry = exact.get(int(meta.entry_ids[rows[k]]))
                    score = None if entry is None else _exact_score(probes[i], entry, bool(count))
                    if score is not None and score >= threshold:
                        scores[k], keep[k] = score, True
                bucket[j] = (rows[keep], scores[keep], count)

    # -- size and state ---------------------------------------------------------------------

    def nbytes(self) -> int:
        parts = (*self._fingers.values(), *self._faces.values(), self._all_faces)
        return (
            self._finger_q.nbytes + self._face_q.nbytes
            + sum(_fast_scan_bytes(p.index) + p.rows.values.nbytes for p in parts)
        )

    def export_state(self) -> State:
        state: State = {
            "fast_subvector_dim": np.array([self._params.subvector_dim], np.int64),
            **self._finger_q.state("fast_finger"),
            **self._face_q.state("fast_face"),
            "fast_fingers_masks": np.array(sorted(self._fingers), np.int64),
            "fast_faces_masks": np.array(sorted(self._faces), np.int64),
        }
        state["fast_all_faces_index"] = faiss.serialize_index(self._all_faces.index)
        state["fast_all_faces_rows"] = self._all_faces.rows.values.copy()
        for name, parts in (("fingers", self._fingers), ("faces", self._faces)):
            for mask, part in parts.items():
                state[f"fast_{name}_{mask}_index"] = faiss.serialize_index(part.index)
                state[f"fast_{name}_{mask}_rows"] = part.rows.values.copy()
        return state

    def restore(self, state: State) -> None:
        if int(state["fast_subvector_dim"][0]) != self._params.subvector_dim:
            raise ValueError("the state was written with another subvector_dim")
        self._finger_q.restore(state, "fast_finger")
        self._face_q.restore(state, "fast_face")
        self._all_faces = _Part(self._face_template)
        self._all_faces.index = _index(state["fast_all_faces_index"])
        self._all_faces.rows.replace(state["fast_all_faces_rows"])
        for name, parts, template in (
            ("fingers", self._fingers, self._finger_template),
            ("faces", self._faces, self._face_template),
        ):
            parts.clear()
            for mask in state[f"fast_{name}_masks"].tolist():
                part = _Part(template)
                part.index = _index(state[f"fast_{name}_{mask}_index"])
                part.rows.replace(state[f"fast_{name}_{mask}_rows"])
                parts[int(mask)] = part


def _largest(parts: dict[int, _Part]) -> int:
    """The rows of the largest of `parts` (0 if none), once per search rather than per part."""
    return max((part.index.ntotal for part in parts.values()), default=0)


def _best(bucket: Bucket, limit: int | None) -> list[npt.NDArray[np.bool_]]:
    """Per part of the bucket, which candidates to re-score: all, or with a limit those among
    the 2 x limit best by approximate score (ties included), as neighbours in an approximate
    ranking may swap."""
    if limit is None:
        return [np.ones(len(rows), dtype=np.bool_) for rows, _, _ in bucket]
    everything = np.concatenate([scores for _, scores, _ in bucket]) if bucket else np.empty(0)
    if len(everything) <= 2 * limit:
        return [np.ones(len(rows), dtype=np.bool_) for rows, _, _ in bucket]
    cutoff = np.partition(everything, -2 * limit)[-2 * limit]
    return [scores >= cutoff for _, scores, _ in bucket]


def _exact_score(probe: Prepared, entry: Prepared, fingers: bool) -> float | None:
    """The pair's exact fused score; None if the pair is not comparable that way."""
    if fingers:
        common = int(FINGER_COUNT[probe.finger_mask & entry.finger_mask])
        if not common:
            return None
        return float(fused_scores(probe.fingers[None], entry.fingers[None],
                                  np.array([common]))[0])
    if probe.face is None or entry.face is None:
        return None
    return float(fused_scores(probe.face[None], entry.face[None], np.array([0]))[0])


def _index(blob: npt.NDArray[np.generic]) -> faiss.IndexPQFastScan:
    index = faiss.deserialize_index(np.ascontiguousarray(blob, dtype=np.uint8))
    if not isinstance(index, faiss.IndexPQFastScan):
        raise ValueError("state holds another kind of index")
    return index
