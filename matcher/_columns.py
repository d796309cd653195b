"""Growable numpy arrays of rows kept beside the FAISS rows, same order, same length: 1-D
metadata columns (`Column`) and 2-D fixed-width rows (`Rows`, the fast index's 4-bit vectors).

Amortised doubling keeps single adds O(1); `values` is a view onto the first `len` rows, so
vectorised eligibility checks run over plain contiguous arrays.
"""

from __future__ import annotations

from typing import Generic, TypeVar

import numpy as np
import numpy.typing as npt

ScalarT = TypeVar("ScalarT", bound=np.generic)


class Column(Generic[ScalarT]):
    def __init__(self, dtype: type[ScalarT], width: int | None = None) -> None:
        self._tail: tuple[int, ...] = () if width is None else (width,)
        self._data: npt.NDArray[ScalarT] = np.empty((0, *self._tail), dtype=dtype)
        self._len = 0

    def __len__(self) -> int:
        return self._len

    @property
    def values(self) -> npt.NDArray[ScalarT]:
        """A writable view of the live rows (invalidated by the next extend, keep or replace)."""
        return self._data[: self._len]

    def extend(self, values: npt.ArrayLike) -> None:
        new = np.asarray(values, dtype=self._data.dtype).reshape(-1, *self._tail)
        end = self._len + len(new)
        if end > len(self._data):
            grown = np.empty((max(end, 2 * len(self._data), 1024), *self._tail),
                             dtype=self._data.dtype)
            grown[: self._len] = self.values
            self._data = grown
        self._data[self._len : end] = new
        self._len = end

    def keep(self, mask: npt.NDArray[np.bool_]) -> None:
        """Drop the rows where `mask` is False, preserving order (used by compaction)."""
        self._hold(self.values[mask])

    def replace(self, values: npt.NDArray[np.generic]) -> None:
        """Take `values` as the whole content (used when restoring a snapshot)."""
        self._hold(np.asarray(values, dtype=self._data.dtype).reshape(-1, *self._tail))

    def _hold(self, content: npt.NDArray[ScalarT]) -> None:
        """Hold `content` with room to grow by a quarter. Held at its exact size, the first
        append after a restore would double and copy it at once: 3.7 s for the 1.8 GB of int8
        vectors of a million rows, while every request waited for the writer. The room's pages
        are never touched until used, so it costs no memory."""
        self._data = np.empty((len(content) + len(content) // 4 + 1024, *self._tail),
                              dtype=self._data.dtype)
        self._data[: len(content)] = content
        self._len = len(content)


class Rows(Column[ScalarT]):
    """A growable 2-D array of fixed width (one row per gallery row)."""

    def __init__(self, dtype: type[ScalarT], width: int) -> None:
        super().__init__(dtype, width)
