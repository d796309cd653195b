"""The exact engine: normalised templates in two flat inner-product indexes (the oracle).

Finger index row i is entry row i: the ten normalised finger vectors concatenated (zeros where
unusable), so one inner product is the sum of cosines over common positions. The face index holds
only entries with a usable face; `face_entry_row` maps its rows back. Searches read the indexes'
vectors directly, as dense products over a whole batch (`_dense.py`). Every score is exact: no
recall loss to explain to a court.
"""

from __future__ import annotations

from collections.abc import Sequence

import faiss
import numpy as np
import numpy.typing as npt

from ._columns import Column
from ._config import FINGER_POSITIONS, MatcherConfig
from ._dense import DenseView, search_dense
from ._eligibility import Eligibility
from ._prepared import Prepared, PreparedBatch
from ._scoring import SearchOutcome
from ._search import MetaView, Query

State = dict[str, npt.NDArray[np.generic]]


class ExactEngine:
    kind = "exact"
    rechecked = 0  # every score is exact: nothing to re-check

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
        view = DenseView(meta, _vectors(self._fingers), _vectors(self._faces),
                         self._face_entry_row.values)
        return search_dense(view, probes, eligibles, query)

    def vectors(
        self, rows: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.float32], list[npt.NDArray[np.float32] | None]]:
        """Copies of the normalised finger rows and faces (None: no usable face) of `rows`."""
        fingers = _vectors(self._fingers)[rows].copy()
        owners = self._face_entry_row.values  # ascending: faces are appended in row order
        at = np.searchsorted(owners, rows)
        faces_view = _vectors(self._faces)
        faces: list[npt.NDArray[np.float32] | None] = [
            faces_view[i].copy() if i < owners.size and owners[i] == row else None
            for i, row in zip(at.tolist(), rows.tolist(), strict=True)
        ]
        return fingers, faces

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


def _vectors(index: faiss.IndexFlatIP) -> npt.NDArray[np.float32]:
    """The index's vectors, without a copy (valid until the next add: callers hold the lock)."""
    if not index.ntotal:
        return np.zeros((0, index.d), dtype=np.float32)
    flat = faiss.rev_swig_ptr(index.get_xb(), index.ntotal * index.d)
    return flat.reshape(index.ntotal, index.d)


def _drop_rows(index: faiss.Index, dead: npt.NDArray[np.bool_]) -> None:
    if dead.any():
        bits = np.packbits(dead, bitorder="little")
        index.remove_ids(faiss.IDSelectorBitmap(bits.size, faiss.swig_ptr(bits)))


def _index(blob: npt.NDArray[np.generic]) -> faiss.IndexFlatIP:
    index = faiss.deserialize_index(np.ascontiguousarray(blob, dtype=np.uint8))
    if not isinstance(index, faiss.IndexFlatIP):
        raise ValueError("state holds another kind of index")
    return index
