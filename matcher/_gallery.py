"""The gallery: entries' normalised templates in two flat inner-product indexes, plus metadata.

Layout. Finger index row i is entry row i: the ten normalised finger vectors concatenated
(zeros where unusable), so one inner product is the sum of cosines over common positions. The face
index holds only entries with a usable face; `face_entry_row` maps its rows back. Metadata lives
in numpy columns aligned with the entry rows, so eligibility is a vectorised mask turned into a
FAISS selector. Flat indexes are exact: no recall loss to explain to a court.

Removal is a tombstone (alive=False), so it is O(1) and immediate; the rows are reclaimed in one
pass when tombstones reach a quarter of the rows, instead of FAISS shifting the whole index on
every single removal.
"""

from __future__ import annotations

import itertools
import math
import operator
from collections import defaultdict
from collections.abc import Iterable, Sequence

import faiss
import numpy as np
import numpy.typing as npt

from ._columns import Column
from ._config import FINGER_POSITIONS, MatcherConfig
from ._eligibility import Eligibility, EntryMeta
from ._exceptions import DuplicateEntryError, UnknownEntryError
from ._prepared import PreparedBatch, prepare_prefix
from ._rwlock import ReadWriteLock
from ._scoring import SearchOutcome
from ._search import GalleryView, Query, search_group
from ._templates import Templates

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
    """Exact one-to-many search over enrolled templates; thread-safe (many readers, one writer)."""

    def __init__(self, config: MatcherConfig) -> None:
        self.config = config
        self._lock = ReadWriteLock()
        self._fingers = faiss.IndexFlatIP(len(FINGER_POSITIONS) * config.finger_dim)
        self._faces = faiss.IndexFlatIP(config.face_dim)
        self._entry_ids = Column(np.int64)
        self._group = Column(np.uint8)
        self._member_state = Column(np.uint8)
        self._marked = Column(np.bool_)
        self._alive = Column(np.bool_)
        self._finger_mask = Column(np.uint16)
        self._face_entry_row = Column(np.int64)
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
        prepared, error = prepare_prefix([templates], self.config)
        if error is not None:
            raise error
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
                seen: set[int] = set()
                for i, entry_id in enumerate(ids[:valid]):
                    if entry_id in self._row_of or entry_id in seen:
                        valid, error = i, DuplicateEntryError(entry_id)
                        break
                    seen.add(entry_id)
                if valid:
                    self._append(ids[:valid], prepared.head(valid), metas[:valid])
            added += valid
            if error is not None:
                raise error
        return added

    def remove(self, entry_id: int) -> None:
        """Drop an entry; later searches never return it. Raises UnknownEntryError."""
        with self._lock.writing():
            row = self._row(entry_id)
            del self._row_of[entry_id]
            self._alive.values[row] = False
            self._dead += 1
            if 4 * self._dead > len(self._alive):
                self._compact()

    def set_marked(self, entry_id: int, marked: bool) -> None:
        """Mark or unmark an entry (for marked-only eligibility). Raises UnknownEntryError."""
        with self._lock.writing():
            self._marked.values[self._row(entry_id)] = marked

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
    ) -> list[SearchOutcome]:
        """The same as search for each (probe, eligibility) pair, with one FAISS call serving
        every probe that shares eligibility and usable finger positions (FAISS then spreads the
        probes over the cores)."""
        if len(probes) != len(eligibles):
            raise ValueError("probes and eligibles must have the same length")
        if limit is not None and limit < 1:
            raise ValueError("limit must be at least 1")
        batch, error = prepare_prefix(probes, self.config)
        if error is not None:
            raise error
        prepared = batch.items()
        groups: defaultdict[tuple[Eligibility, int, bool], list[int]] = defaultdict(list)
        for i, (p, eligible) in enumerate(zip(prepared, eligibles, strict=True)):
            groups[(eligible, p.finger_mask, p.face is not None)].append(i)

        outcomes: list[SearchOutcome] = [SearchOutcome(hits=())] * len(probes)
        with self._lock.reading():
            view = self._view()
            for (eligible, _, _), members in groups.items():
                query = Query(
                    eligible=eligible,
                    finger_threshold=_resolve(finger_threshold, self.config.finger_threshold),
                    face_threshold=_resolve(face_threshold, self.config.face_threshold),
                    limit=limit,
                )
                results = search_group(view, [prepared[i] for i in members], query)
                for i, outcome in zip(members, results, strict=True):
                    outcomes[i] = outcome
        return outcomes

    # -- internals (callers hold the lock) --------------------------------------------------

    def _row(self, entry_id: int) -> int:
        try:
            return self._row_of[entry_id]
        except (KeyError, TypeError):
            raise UnknownEntryError(entry_id) from None

    def _view(self) -> GalleryView:
        return GalleryView(
            fingers=self._fingers,
            faces=self._faces,
            entry_ids=self._entry_ids.values,
            group=self._group.values,
            member_state=self._member_state.values,
            marked=self._marked.values,
            alive=self._alive.values,
            finger_mask=self._finger_mask.values,
            face_entry_row=self._face_entry_row.values,
        )

    def _append(self, ids: list[int], prepared: PreparedBatch, metas: list[EntryMeta]) -> None:
        first_row = len(self._entry_ids)
        self._fingers.add(prepared.fingers)
        if len(prepared.faces):
            self._faces.add(prepared.faces)
            self._face_entry_row.extend(prepared.face_owners + first_row)
        self._entry_ids.extend(ids)
        self._group.extend([m.group for m in metas])
        self._member_state.extend([m.member_state for m in metas])
        self._marked.extend([m.marked for m in metas])
        self._alive.extend(np.ones(len(ids), dtype=np.bool_))
        self._finger_mask.extend(prepared.finger_masks)
        self._row_of.update(zip(ids, range(first_row, first_row + len(ids)), strict=True))

    def _compact(self) -> None:
        """Reclaim tombstoned rows in one pass over each index (order is preserved)."""
        alive = self._alive.values.copy()
        new_row = np.cumsum(alive) - 1
        face_alive = alive[self._face_entry_row.values]
        _drop_rows(self._fingers, ~alive)
        _drop_rows(self._faces, ~face_alive)
        surviving_owners = new_row[self._face_entry_row.values[face_alive]]
        self._face_entry_row.keep(face_alive)
        self._face_entry_row.values[:] = surviving_owners
        for column in (self._entry_ids, self._group, self._member_state, self._marked,
                       self._alive, self._finger_mask):
            column.keep(alive)
        ids = self._entry_ids.values.tolist()
        self._row_of = dict(zip(ids, range(len(ids)), strict=True))
        self._dead = 0


def _drop_rows(index: faiss.IndexFlatIP, dead: npt.NDArray[np.bool_]) -> None:
    if dead.any():
        bits = np.packbits(dead, bitorder="little")
        index.remove_ids(faiss.IDSelectorBitmap(bits.size, faiss.swig_ptr(bits)))


def _resolve(threshold: float | None, default: float) -> float:
    if threshold is None:
        return default
    if not math.isfinite(threshold):
        raise ValueError(f"thresholds must be finite, got {threshold}")
    return float(threshold)
