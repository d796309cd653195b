"""The exact engine: normalised templates in two flat inner-product indexes (the oracle).

Finger index row i is entry row i: the ten normalised finger vectors concatenated (zeros where
unusable), so one inner product is the sum of cosines over common positions. The face index holds
only entries with a usable face; `face_entry_row` maps its rows back. Flat indexes are exact: no
recall loss to explain to a court.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import faiss
import numpy as np
import numpy.typing as npt

from ._columns import Column
from ._config import FINGER_POSITIONS, MatcherConfig
from ._eligibility import Eligibility
from ._prepared import Prepared, PreparedBatch
from ._scoring import SearchOutcome
from ._search import GalleryView, MetaView, Query, search_group

State = dict[str, npt.NDArray[np.generic]]


class ExactEngine:
    kind = "exact"

    def __init__(self, config: MatcherConfig) -> None:
        self._fingers = faiss.IndexFlatIP(len(FINGER_POSITIONS) * config.finger_dim)
        self._faces = faiss.IndexFlatIP(config.face_dim)
        self._face_entry_row = Column(np.int64)

    def append(self, first_row: int, prepared: PreparedBatch) -> None:
        self._fingers.add(prepared.fingers)
        if len(prepared.faces):
            self._faces.add(prepared.faces)
            self._face_entry_row.extend(prepared.face_owners + first_row)

    def compact(self, alive: npt.NDArray[np.bool_]) -> None:
        new_row = np.cumsum(alive) - 1
        face_alive = alive[self._face_entry_row.values]
        _drop_rows(self._fingers, ~alive)
        _drop_rows(self._faces, ~face_alive)
        surviving_owners = new_row[self._face_entry_row.values[face_alive]]
        self._face_entry_row.keep(face_alive)
        self._face_entry_row.values[:] = surviving_owners

    def search(
        self,
        meta: MetaView,
        probes: Sequence[Prepared],
        eligibles: Sequence[Eligibility],
        query: Query,
    ) -> list[SearchOutcome]:
        view = GalleryView(meta, self._fingers, self._faces, self._face_entry_row.values)
        groups: defaultdict[tuple[Eligibility, int, bool], list[int]] = defaultdict(list)
        for i, (p, eligible) in enumerate(zip(probes, eligibles, strict=True)):
            groups[(eligible, p.finger_mask, p.face is not None)].append(i)
        outcomes: list[SearchOutcome] = [SearchOutcome(hits=())] * len(probes)
        for (eligible, _, _), members in groups.items():
            group_query = Query(eligible, query.finger_threshold, query.face_threshold,
                                query.limit)
            results = search_group(view, [probes[i] for i in members], group_query)
            for i, outcome in zip(members, results, strict=True):
                outcomes[i] = outcome
        return outcomes

    def nbytes(self) -> int:
        return (
            self._fingers.ntotal * self._fingers.d * 4
            + self._faces.ntotal * self._faces.d * 4
            + self._face_entry_row.values.nbytes
        )

    def export_state(self) -> State:
        return {
            "exact_fingers": faiss.serialize_index(self._fingers),
            "exact_faces": faiss.serialize_index(self._faces),
            "exact_face_entry_row": self._face_entry_row.values.copy(),
        }

    def restore(self, state: State) -> None:
        self._fingers = _index(state["exact_fingers"])
        self._faces = _index(state["exact_faces"])
        self._face_entry_row.replace(state["exact_face_entry_row"])


def _drop_rows(index: faiss.Index, dead: npt.NDArray[np.bool_]) -> None:
    if dead.any():
        bits = np.packbits(dead, bitorder="little")
        index.remove_ids(faiss.IDSelectorBitmap(bits.size, faiss.swig_ptr(bits)))


def _index(blob: npt.NDArray[np.generic]) -> faiss.IndexFlatIP:
    index = faiss.deserialize_index(np.ascontiguousarray(blob, dtype=np.uint8))
    if not isinstance(index, faiss.IndexFlatIP):
        raise ValueError("state holds another kind of index")
    return index
