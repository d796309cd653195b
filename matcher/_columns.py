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

    def replace(self, values: npt.NDArray[np.generic]) -> None:
        """Take `values` as the whole content (used when restoring a snapshot)."""
        self._data = np.ascontiguousarray(values, dtype=self._data.dtype).reshape(-1)
        self._len = self._data.size


class Rows(Generic[ScalarT]):
    """A growable 2-D array of fixed width (one row per gallery row), same doubling as Column."""

    def __init__(self, dtype: type[ScalarT], width: int) -> None:
        self._data: npt.NDArray[ScalarT] = np.empty((0, width), dtype=dtype)
        self._len = 0

    def __len__(self) -> int:
        return self._len

    @property
    def values(self) -> npt.NDArray[ScalarT]:
        return self._data[: self._len]

    def extend(self, rows: npt.NDArray[ScalarT]) -> None:
        end = self._len + len(rows)
        if end > len(self._data):
            grown = np.empty(
                (max(end, 2 * len(self._data), 1024), self._data.shape[1]), dtype=self._data.dtype
            )
            grown[: self._len] = self.values
            self._data = grown
        self._data[self._len : end] = rows
        self._len = end

    def keep(self, mask: npt.NDArray[np.bool_]) -> None:
        self._data = self.values[mask].copy()
        self._len = len(self._data)

    def replace(self, rows: npt.NDArray[np.generic]) -> None:
        """Take `rows` as the whole content (used when restoring a snapshot)."""
        self._data = np.ascontiguousarray(rows, dtype=self._data.dtype)
        self._len = len(rows)
