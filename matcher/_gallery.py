"""The gallery: entries' templates in an index engine, plus per-row metadata.

The metadata lives in numpy columns aligned with the entry rows, so eligibility is a vectorised
mask. Two engines hold the vectors (`IndexKind`): `exact` (float32 flat indexes, every score
exact: the oracle) and `fast` (4-bit PQ fast-scan candidates re-ranked with 4-bit vectors, see
`_fast.py`). Both answer the same questions through the same API.

Removal is a tombstone (alive=False), so it is O(1) and immediate; the rows are reclaimed in one
pass when tombstones reach a quarter of the rows, instead of FAISS shifting the whole index on
every single removal.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import operator
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

from ._columns import Column
from ._config import FINGER_POSITIONS, FastIndexParams, IndexKind, MatcherConfig
from ._eligibility import Eligibility, EntryMeta
from ._exact import ExactEngine
from ._exceptions import DuplicateEntryError, UnknownEntryError
from ._fast import FastEngine
from ._prepared import PreparedBatch, prepare_batch, prepare_prefix
from ._rwlock import ReadWriteLock
from ._scoring import SearchOutcome
from ._search import MetaView, Query
from ._templates import Templates, TemplateSource

__all__ = ["Gallery"]

# Entries per FAISS add in add_many: large enough to amortise the call, small enough that the
# staging copy (8192 x 5 KiB at the default dimensions) stays modest.
_ADD_CHUNK = 8192
_INT64 = range(-(2**63), 2**63)


def _check_entry_id(entry_id: int) -> int:
    value = operator.index(entry_id)
    if value not in _INT64:
        raise ValueError(f"entry_id must fit in 64 bits, got {value}")
    return value


class Gallery:
    """One-to-many search over enrolled templates; thread-safe (many readers, one writer).

    `index` picks the engine (exact by default); `fast` tunes the fast one, and `source`, when
    given, lets it re-score candidates near a threshold exactly (see FastIndexParams).
    """

    def __init__(
        self,
        config: MatcherConfig,
        *,
        index: IndexKind | str = IndexKind.EXACT,
        fast: FastIndexParams | None = None,
        source: TemplateSource | None = None,
    ) -> None:
        self.config = config
        self.kind = IndexKind(index)
        self.fast_params = fast or FastIndexParams()
        self.source = source
        self._lock = ReadWriteLock()
        self._engine: ExactEngine | FastEngine = (
            ExactEngine(config) if self.kind is IndexKind.EXACT
            else FastEngine(config, self.fast_params, source)
        )
        self._mutations = 0
        self._removals = 0
        self._entry_ids = Column(np.int64)
        self._group = Column(np.uint8)
        self._member_state = Column(np.uint8)
        self._marked = Column(np.bool_)
        self._alive = Column(np.bool_)
        self._finger_mask = Column(np.uint16)
        self._row_of: dict[int, int] = {}
        self._dead = 0

    # -- membership -------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._row_of)

    def __contains__(self, entry_id: object) -> bool:
        try:
            return entry_id in self._row_of
        except TypeError:  # unhashable
            return False

    # -- writes -----------------------------------------------------------------------------

    def add(self, entry_id: int, templates: Templates, meta: EntryMeta) -> None:
        """Index the usable templates of one entry; searchable as soon as this returns.

        Raises TemplateError (nothing added) or DuplicateEntryError.
        """
        entry_id = _check_entry_id(entry_id)
        prepared = prepare_batch([templates], self.config)
        with self._lock.writing():
            if entry_id in self._row_of:
                raise DuplicateEntryError(entry_id)
            self._append([entry_id], prepared, [meta])

    def add_many(self, entries: Iterable[tuple[int, Templates, EntryMeta]]) -> int:
        """Add entries in bulk (the startup rebuild from the store); returns how many were added.

        Same outcome as calling add for each in order: on an error, the entries before the bad
        one are added and the error is raised.
        """
        added = 0
        iterator = iter(entries)
        while chunk := list(itertools.islice(iterator, _ADD_CHUNK)):
            ids: list[int] = []
            batch: list[Templates] = []
            metas: list[EntryMeta] = []
            error: Exception | None = None
            for item in chunk:
                try:
                    entry_id, templates, meta = item
                    ids.append(_check_entry_id(entry_id))
                except (TypeError, ValueError) as exc:
                    error = exc
                    break
                batch.append(templates)
                metas.append(meta)
            # A template error comes from an item before any entry_id error (which stopped the
            # batch), so it is the earlier one; the same holds for duplicates below.
            prepared, template_error = prepare_prefix(batch, self.config)
            error = template_error or error
            valid = len(prepared)
            with self._lock.writing():
                duplicate = self._first_duplicate(ids[:valid])
                if duplicate is not None:
                    valid, error = duplicate, DuplicateEntryError(ids[duplicate])
                if valid:
                    self._append(ids[:valid], prepared.head(valid), metas[:valid])
            added += valid
            if error is not None:
                raise error
        return added

    def add_prepared(self, entry_ids: Sequence[int], prepared: PreparedBatch,
                     metas: Sequence[EntryMeta]) -> None:
        """Add entries whose templates were prepared already (`prepare_batch` with this
        gallery's config), all or none. Raises DuplicateEntryError."""
        ids = [_check_entry_id(entry_id) for entry_id in entry_ids]
        if not len(ids) == len(prepared) == len(metas):
            raise ValueError("entry_ids, prepared and metas must have the same length")
        with self._lock.writing():
            duplicate = self._first_duplicate(ids)
            if duplicate is not None:
                raise DuplicateEntryError(ids[duplicate])
            if ids:
                self._append(ids, prepared, list(metas))

    def _first_duplicate(self, ids: Sequence[int]) -> int | None:
        """Where the first id already held, or repeated earlier in `ids`, is (None: nowhere).
        Under the write lock."""
        seen: set[int] = set()
        for i, entry_id in enumerate(ids):
            if entry_id in self._row_of or entry_id in seen:
                return i
            seen.add(entry_id)
        return None

    def remove(self, entry_id: int) -> None:
        """Drop an entry; later searches never return it. Raises UnknownEntryError."""
        with self._lock.writing():
            row = self._row(entry_id)
            del self._row_of[entry_id]
            self._alive.values[row] = False
            self._dead += 1
            self._mutations += 1
            self._removals += 1
            if 4 * self._dead > len(self._alive):
                self._compact()

    def set_marked(self, entry_id: int, marked: bool) -> None:
        """Mark or unmark an entry (for marked-only eligibility). Raises UnknownEntryError."""
        with self._lock.writing():
            self._marked.values[self._row(entry_id)] = marked
            self._mutations += 1

    def set_thresholds(self, finger_threshold: float, face_threshold: float) -> None:
        """Change the default decision thresholds (a calibration as the gallery grows); searches
        already running keep the ones they started with."""
        updated = dataclasses.replace(self.config, finger_threshold=finger_threshold,
                                      face_threshold=face_threshold)  # validates them
        with self._lock.writing():
            self.config = updated

    # -- reads ------------------------------------------------------------------------------

    def search(
        self,
        probe: Templates,
        eligible: Eligibility,
        *,
        finger_threshold: float | None = None,
        face_threshold: float | None = None,
        limit: int | None = None,
    ) -> SearchOutcome:
        """Hits among eligible entries, best first.

        Thresholds default to the config's; any value works, so a negative threshold with
        `limit=k` gives the top k comparable entries. Raises TemplateError for a malformed probe.
        """
        return self.search_many(
            [probe],
            [eligible],
            finger_threshold=finger_threshold,
            face_threshold=face_threshold,
            limit=limit,
        )[0]

    def search_many(
        self,
        probes: Sequence[Templates],
        eligibles: Sequence[Eligibility],
        *,
        finger_threshold: float | None = None,
        face_threshold: float | None = None,
        limit: int | None = None,
        prepared: PreparedBatch | None = None,
    ) -> list[SearchOutcome]:
        """The same as search for each (probe, eligibility) pair, searched together: one pass
        over the gallery serves the whole batch (BLAS or FAISS spread it over the cores).

        `prepared`: the probes as `prepare_batch` made them with this gallery's config, where
        the caller prepared them once for several uses (they are not prepared again)."""
        if len(probes) != len(eligibles):
            raise ValueError("probes and eligibles must have the same length")
        if limit is not None and limit < 1:
            raise ValueError("limit must be at least 1")
        if prepared is not None and len(prepared) != len(probes):
            raise ValueError("prepared must hold one item per probe")
        batch = prepare_batch(probes, self.config) if prepared is None else prepared
        query = Query(
            finger_threshold=_resolve(finger_threshold, self.config.finger_threshold),
            face_threshold=_resolve(face_threshold, self.config.face_threshold),
            limit=limit,
        )
        if not probes:
            return []
        with self._lock.reading():
            return self._engine.search(self._view(), batch.items(), eligibles, query)

    # -- state ------------------------------------------------------------------------------

    @property
    def mutations(self) -> int:
        """How many adds, removals and mark changes so far (drives periodic snapshots)."""
        return self._mutations

    @property
    def rechecked(self) -> int:
        """Candidates re-scored exactly from the template source so far (fast engine only)."""
        return self._engine.rechecked

    @property
    def removals(self) -> int:
        """How many removals so far (an erasure should reach the snapshot on disk soon)."""
        return self._removals

    def templates_of(self, entry_ids: Sequence[int]) -> dict[int, Templates]:
        """The normalised templates held for those of `entry_ids` in the gallery (exact engine
        only: the fast one keeps no full-precision vectors). A `TemplateSource` for a fast
        gallery holding the same entries, as benchmarks use it."""
        if not isinstance(self._engine, ExactEngine):
            raise TypeError("only an exact gallery holds full-precision templates")
        with self._lock.reading():
            held = [entry_id for entry_id in entry_ids if entry_id in self._row_of]
            rows = np.array([self._row_of[entry_id] for entry_id in held], dtype=np.int64)
            fingers, faces = self._engine.vectors(rows)
            masks = self._finger_mask.values[rows].tolist()
        dim = self.config.finger_dim
        return {
            entry_id: Templates(
                fingers={p + 1: fingers[i, p * dim:(p + 1) * dim].copy()
                         for p in range(len(FINGER_POSITIONS)) if mask >> p & 1},
                face=faces[i],
            )
            for i, (entry_id, mask) in enumerate(zip(held, masks, strict=True))
        }

    def nbytes(self) -> int:
        """Bytes held by the index and its metadata columns (not Python's id dictionary)."""
        with self._lock.reading():
            columns = (self._entry_ids, self._group, self._member_state, self._marked,
                       self._alive, self._finger_mask)
            return self._engine.nbytes() + sum(c.values.nbytes for c in columns)

    def entries(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
        """The entry ids held and their marks, in row order (for reconciling with a store)."""
        with self._lock.reading():
            alive = self._alive.values
            return self._entry_ids.values[alive].copy(), self._marked.values[alive].copy()

    def export_state(self) -> dict[str, npt.NDArray[np.generic]]:
        """Everything needed to rebuild this gallery, as named numpy arrays; removed entries
        are reclaimed first, so the state never holds them."""
        with self._lock.writing():
            if self._dead:
                self._compact()
            state = self._engine.export_state()
            state.update(
                kind=np.frombuffer(self.kind.value.encode(), dtype=np.uint8).copy(),
                dims=np.array([self.config.finger_dim, self.config.face_dim], np.int64),
                entry_ids=self._entry_ids.values.copy(),
                group=self._group.values.copy(),
                member_state=self._member_state.values.copy(),
                marked=self._marked.values.copy(),
                finger_mask=self._finger_mask.values.copy(),
            )
            return state

    @classmethod
    def from_state(
        cls,
        config: MatcherConfig,
        state: dict[str, npt.NDArray[np.generic]],
        *,
        fast: FastIndexParams | None = None,
        source: TemplateSource | None = None,
    ) -> Gallery:
        """A gallery restored from `export_state`; ValueError if it does not fit `config`."""
        kind = bytes(state["kind"].astype(np.uint8)).decode()
        gallery = cls(config, index=kind, fast=fast, source=source)
        gallery.load_state(state)
        return gallery

    def load_state(self, state: dict[str, npt.NDArray[np.generic]]) -> None:
        """Replace this gallery's content with `export_state`'s; ValueError if it does not fit
        (another engine, other dimensions or fast-index parameters), leaving it unchanged."""
        kind = bytes(state["kind"].astype(np.uint8)).decode()
        if kind != self.kind.value:
            raise ValueError(f"state holds a {kind} index, this gallery is {self.kind.value}")
        dims = state["dims"].tolist()
        if dims != [self.config.finger_dim, self.config.face_dim]:
            raise ValueError(f"state has dimensions {dims}, config wants "
                             f"{[self.config.finger_dim, self.config.face_dim]}")
        ids = state["entry_ids"].astype(np.int64).tolist()
        row_of = dict(zip(ids, range(len(ids)), strict=True))
        if len(row_of) != len(ids):
            raise ValueError("state holds duplicate entry ids")
        engine = (ExactEngine(self.config) if self.kind is IndexKind.EXACT
                  else FastEngine(self.config, self.fast_params, self.source))
        engine.restore(state)
        with self._lock.writing():
            self._engine = engine
            self._entry_ids.replace(state["entry_ids"])
            self._group.replace(state["group"])
            self._member_state.replace(state["member_state"])
            self._marked.replace(state["marked"])
            self._finger_mask.replace(state["finger_mask"])
            self._alive.replace(np.ones(len(ids), dtype=np.bool_))
            self._row_of = row_of
            self._dead = 0

    # -- internals (callers hold the lock) --------------------------------------------------

    def _row(self, entry_id: int) -> int:
        try:
            return self._row_of[entry_id]
        except (KeyError, TypeError):
            raise UnknownEntryError(entry_id) from None

    def _view(self) -> MetaView:
        return MetaView(
            entry_ids=self._entry_ids.values,
            group=self._group.values,
            member_state=self._member_state.values,
            marked=self._marked.values,
            alive=self._alive.values,
            finger_mask=self._finger_mask.values,
        )

    def _append(self, ids: list[int], prepared: PreparedBatch, metas: list[EntryMeta]) -> None:
        first_row = len(self._entry_ids)
        self._engine.append(first_row, prepared)
        self._entry_ids.extend(ids)
        self._group.extend([m.group for m in metas])
        self._member_state.extend([m.member_state for m in metas])
        self._marked.extend([m.marked for m in metas])
        self._alive.extend(np.ones(len(ids), dtype=np.bool_))
        self._finger_mask.extend(prepared.finger_masks)
        self._row_of.update(zip(ids, range(first_row, first_row + len(ids)), strict=True))
        self._mutations += len(ids)

    def _compact(self) -> None:
        """Reclaim tombstoned rows in one pass over each index (order is preserved)."""
        alive = self._alive.values.copy()
        self._engine.compact(alive)
        for column in (self._entry_ids, self._group, self._member_state, self._marked,
                       self._alive, self._finger_mask):
            column.keep(alive)
        ids = self._entry_ids.values.tolist()
        self._row_of = dict(zip(ids, range(len(ids)), strict=True))
        self._dead = 0


def _resolve(threshold: float | None, default: float) -> float:
    if threshold is None:
        return default
    if not math.isfinite(threshold):
        raise ValueError(f"thresholds must be finite, got {threshold}")
    return float(threshold)
