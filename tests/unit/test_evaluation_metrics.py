"""Identification metrics against small cases computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from service.scores.metrics import (
    MatedSearch,
    det_curve,
    fnir,
    fpir,
    impostor_tail,
    mate_scores,
    rank1_rate,
    threshold_for_fpir,
    top_scores,
)

MATED = [
    MatedSearch([2.0, 0.3], [True, False]),  # mate first
    MatedSearch([0.9, 0.6], [False, True]),  # mate second: a rank-1 miss
    MatedSearch([0.4], [False]),  # no mate listed
    MatedSearch([0.45, 0.2], [True, True]),  # mate first, below 0.5
]
NON_MATED = [[0.9, 0.1], [0.8], [0.7], [0.6], [0.5], [0.4], [0.3], [0.2], [0.1], []]


def test_rank1_and_mate_scores() -> None:
    assert rank1_rate(MATED) == pytest.approx(2 / 4)
    assert mate_scores(MATED).tolist() == [2.0, 0.6, -math.inf, 0.45]


def test_fnir_and_fpir_at_a_threshold() -> None:
    mate, top = mate_scores(MATED), top_scores(NON_MATED)
    assert fnir(mate, 0.5) == pytest.approx(2 / 4)  # -inf and 0.45
    assert fnir(mate, 0.45) == pytest.approx(1 / 4)  # a score equal to T is a hit
    assert fpir(top, 0.5) == pytest.approx(5 / 10)  # 0.9 0.8 0.7 0.6 0.5
    assert fpir(top, 0.95) == 0.0


def test_threshold_for_fpir() -> None:
    top = top_scores(NON_MATED)
    t10 = threshold_for_fpir(top, 0.1)  # one of ten may pass: just above the second (0.8)
    assert 0.8 < t10 < 0.8 + 1e-12 and fpir(top, t10) == pytest.approx(0.1)
    t1 = threshold_for_fpir(top, 0.01)  # none may pass: just above the best (0.9)
    assert 0.9 < t1 < 0.9 + 1e-12 and fpir(top, t1) == 0.0
    assert threshold_for_fpir(top, 0.35) == pytest.approx(0.6, abs=1e-12)  # three pass
    assert threshold_for_fpir(top, 1.0) == -math.inf


def test_det_curve_points() -> None:
    mate = np.array([1.0, 0.5])
    top = np.array([0.75, 0.25])
    thresholds, fpirs, fnirs = det_curve(mate, top)
    assert thresholds.tolist() == [0.25, 0.5, 0.75, 1.0]
    assert fpirs.tolist() == [1.0, 0.5, 0.5, 0.0]
    assert fnirs.tolist() == [0.0, 0.0, 0.5, 0.5]


def test_impostor_tail_recovers_a_normal_impostor_distribution() -> None:
    rng = np.random.default_rng(0)
    sigma, gallery, listed = 0.1, 20_000, 30
    lists = []
    for _ in range(200):
        scores = rng.normal(0.0, sigma, gallery)
        lists.append(sorted(scores.tolist(), reverse=True)[:listed])
    tail = impostor_tail(lists, gallery, listed)
    assert tail is not None
    assert 1 / tail.slope == pytest.approx(sigma, rel=0.1)
    # FPIR ~ N x FMR: for FPIR 1e-2 on N entries, FMR = 1e-2 / N, T = sigma * isf(FMR)
    from statistics import NormalDist

    for size in (10_000, 1_000_000):
        expected = sigma * NormalDist().inv_cdf(1 - 1e-2 / size)
        assert tail.threshold_for(1e-2, size) == pytest.approx(expected, abs=0.03)
    # The threshold grows with the gallery at a fixed FPIR.
    assert tail.threshold_for(1e-3, 10**7) > tail.threshold_for(1e-3, 10**5)
    assert tail.measured_fmr(tail.floor) == pytest.approx(
        sum(s >= tail.floor for scores in lists for s in scores) / (200 * gallery))
