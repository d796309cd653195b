"""Growable row arrays: content kept exactly; a restored or compacted array has room to grow,
so the first append after it does not copy everything (a 4 s stall at a million rows)."""

from __future__ import annotations

import numpy as np

from matcher._columns import Column, Rows


def test_rows_keep_their_content_through_extend_keep_and_replace() -> None:
    rows = Rows(np.int8, 3)
    rows.extend(np.arange(6, dtype=np.int8).reshape(2, 3))
    rows.extend(np.full((1, 3), 9, np.int8))
    assert rows.values.tolist() == [[0, 1, 2], [3, 4, 5], [9, 9, 9]]
    rows.keep(np.array([True, False, True]))
    assert rows.values.tolist() == [[0, 1, 2], [9, 9, 9]] and len(rows) == 2
    column = Column(np.int64)
    column.replace(np.arange(5))
    column.extend([7])
    assert column.values.tolist() == [0, 1, 2, 3, 4, 7]


def test_the_first_append_after_a_restore_or_compaction_does_not_copy() -> None:
    rows = Rows(np.int8, 4)
    rows.replace(np.ones((10_000, 4), np.int8))
    before = rows.values
    rows.extend(np.zeros((2_000, 4), np.int8))  # within the quarter of room
    assert np.shares_memory(before, rows.values)
    rows.keep(np.arange(len(rows)) % 2 == 0)
    before = rows.values
    rows.extend(np.zeros((1_000, 4), np.int8))
    assert np.shares_memory(before, rows.values)
