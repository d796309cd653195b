"""The fast index's 4-bit copies: products within the quantization error, rows kept in order."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from matcher._nibbles import Nibbles


def _units(rng: np.random.Generator, rows: int, dim: int) -> npt.NDArray[np.float32]:
    x = rng.standard_normal((rows, dim)).astype(np.float32)
    units: npt.NDArray[np.float32] = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(
        np.float32)
    return units


@pytest.mark.parametrize("dim", [128, 127, 1])
def test_inner_products_are_within_a_step_of_the_exact_ones(dim: int) -> None:
    rng = np.random.default_rng(5)
    vectors = _units(rng, 300, dim)
    vectors[7] = 0.0  # an unusable slot: zero, but for float32 rounding
    store = Nibbles(dim)
    store.extend(vectors[:100])
    store.extend(vectors[100:])
    queries = _units(rng, 4, dim)
    rows = rng.integers(0, 300, (4, 50)).astype(np.int64)
    rows[:, 0] = 7
    got = store.inner_products(rows, queries)
    want = np.einsum("pkd,pd->pk", vectors[rows].astype(np.float64), queries)
    # Each value is off by at most half a step (peak / 7 / 2); a product by at most the sum.
    steps = np.abs(vectors).max(axis=1) / 7 / 2
    bound = steps[rows] * np.abs(queries).sum(axis=1)[:, None] + 1e-5  # + float32 rounding
    assert np.all(np.abs(got - want) <= bound)
    assert np.all(np.abs(got[:, 0]) < 1e-5)
    if dim == 128:  # typical error far below the bound: ~0.014 for unit vectors of this size
        assert np.std(got - want) < 0.02


def test_keep_and_state_round_trip() -> None:
    rng = np.random.default_rng(6)
    vectors = _units(rng, 10, 16)
    store = Nibbles(16)
    store.extend(vectors)
    alive = np.ones(10, dtype=np.bool_)
    alive[[2, 5]] = False
    store.keep(alive)
    restored = Nibbles(16)
    restored.restore(store.state("x"), "x")
    queries = _units(rng, 1, 16)
    rows = np.arange(8, dtype=np.int64)[None]
    assert np.array_equal(restored.inner_products(rows, queries),
                          store.inner_products(rows, queries))
    fresh = Nibbles(16)
    fresh.extend(vectors[alive])
    assert np.array_equal(fresh.inner_products(rows, queries), store.inner_products(rows, queries))
    with pytest.raises(ValueError, match="dimension"):
        Nibbles(32).restore(store.state("x"), "x")
