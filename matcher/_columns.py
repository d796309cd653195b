"""Growable numpy columns: per-row metadata kept beside the FAISS rows, same order, same length.

Amortised doubling keeps single adds O(1); a column is a view onto the first `len` slots, so
vectorised eligibility checks run over plain contiguous arrays.
"""

from __future__ import annotations

from typing import Generic, TypeVar

import numpy as np
import numpy.typing as npt

ScalarT = TypeVar("ScalarT", bound=np.generic)


class Column(Generic[ScalarT]):
    def __init__(self, dtype: type[ScalarT]) -> None:
        self._data: npt.NDArray[ScalarT] = np.empty(0, dtype=dtype)
        self._len = 0

    def __len__(self) -> int:
        return self._len

    @property
    def values(self) -> npt.NDArray[ScalarT]:
        """A writable view of the live slots (invalidated by the next extend or keep)."""
        return self._data[: self._len]

    def extend(self, values: npt.ArrayLike) -> None:
        new = np.asarray(values, dtype=self._data.dtype).reshape(-1)
        end = self._len + new.size
        if end > self._data.size:
            grown = np.empty(max(end, 2 * self._data.size, 1024), dtype=self._data.dtype)
            grown[: self._len] = self.values
            self._data = grown
        self._data[self._len : end] = new
        self._len = end

    def keep(self, mask: npt.NDArray[np.bool_]) -> None:
        """Drop the rows where `mask` is False, preserving order (used by compaction)."""
        self._data = self.values[mask].copy()
        self._len = self._data.size
