"""What the fast engine re-ranks with: each row's vector in 4 bits a value, two values a byte.

Symmetric per-row quantization, value ~ (nibble - 8) * scale with nibbles 1..15, so a million
rows of ten fingers take 640 MB instead of 1.28 GB as int8. Measured cost: the fused-score
error of a pair is ~0.014 (against ~0.001 for int8, and ~0.09 for the spread of impostor
scores): good enough to rank candidates, not to decide a pair at the threshold, which is why
the engine re-scores from the stored templates every candidate within its band of a threshold
(see FastEngine._recheck).

Dimension j of the first half is held in the low nibble of byte j, dimension half + j in its
high nibble: a re-rank multiplies each half by the matching half of the probe, with no
interleaving.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ._columns import Column, Rows

_PEAK = 7  # nibble values 1..15 stand for -7..7
_ZERO = 8


class Nibbles:
    """Rows of `dim`-dimensional vectors, 4 bits a value."""

    def __init__(self, dim: int) -> None:
        self._dim = dim
        self._half = (dim + 1) // 2
        self._bytes = Rows(np.uint8, self._half)
        self._scale = Column(np.float32)

    def extend(self, vectors: npt.NDArray[np.float32]) -> None:
        peak = np.abs(vectors).max(axis=1) if vectors.size else np.zeros(len(vectors), np.float32)
        scale = np.where(peak > 0, peak / _PEAK, 1.0).astype(np.float32)
        codes = np.full((len(vectors), 2 * self._half), _ZERO, dtype=np.uint8)
        codes[:, :self._dim] = (np.rint(vectors / scale[:, None]).astype(np.int8) + _ZERO).view(
            np.uint8)
        self._bytes.extend(codes[:, :self._half] | (codes[:, self._half:] << 4))
        self._scale.extend(scale)

    def keep(self, alive: npt.NDArray[np.bool_]) -> None:
        self._bytes.keep(alive)
        self._scale.keep(alive)

    def inner_products(
        self, rows: npt.NDArray[np.int64], queries: npt.NDArray[np.float32]
    ) -> npt.NDArray[np.float64]:
        """(probes, k) approximate inner products of each probe with its k rows."""
        if self._dim % 2:
            queries = np.pad(queries, ((0, 0), (0, 1)))
        low_q = queries[:, :self._half, None]
        high_q = queries[:, self._half:, None]
        packed = self._bytes.values[rows]
        # A batched matmul on float32 copies: ~6x faster than einsum on the gathered block.
        raw = np.matmul((packed & 15).astype(np.float32), low_q)[:, :, 0]
        raw += np.matmul((packed >> 4).astype(np.float32), high_q)[:, :, 0]
        # The nibbles carry +8: take it off once per probe instead of per value.
        raw -= _ZERO * queries.sum(axis=1)[:, None]
        result: npt.NDArray[np.float64] = raw.astype(np.float64)
        result *= self._scale.values[rows]
        return result

    @property
    def nbytes(self) -> int:
        return int(self._bytes.values.nbytes + self._scale.values.nbytes)

    def state(self, prefix: str) -> dict[str, npt.NDArray[np.generic]]:
        return {f"{prefix}_nibbles": self._bytes.values.copy(),
                f"{prefix}_scale": self._scale.values.copy()}

    def restore(self, state: dict[str, npt.NDArray[np.generic]], prefix: str) -> None:
        packed = state[f"{prefix}_nibbles"]
        if packed.ndim != 2 or packed.shape[1] != self._half:
            raise ValueError("the state holds vectors of another dimension")
        self._bytes.replace(packed.astype(np.uint8, copy=False))
        self._scale.replace(state[f"{prefix}_scale"])
