"""Open-set identification metrics (ISO/IEC 19795-1 vocabulary, as in NIST FRVT 1:N).

A *mated* search has a mate (a dataset of the same person) in the gallery, a *non-mated* one
has none. The service returns every candidate at or above the threshold T, so
  FNIR(T) = share of mated searches where no mate scores >= T,
  FPIR(T) = share of non-mated searches where some candidate scores >= T,
  rank-1 identification rate = share of mated searches whose best candidate is a mate.
A non-mated search compares with N gallery entries, each a false match with probability
FMR(T), so FPIR(N, T) = 1 - (1 - FMR(T))^N, about N x FMR(T): at a fixed threshold FPIR grows
with the gallery, and keeping FPIR requires raising T. FMR is measured from the impostor
scores of the non-mated top-k lists (complete above each list's k-th score) and extrapolated
below the measurable range with a normal tail fitted on the probit scale.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

Scores = npt.NDArray[np.float64]
_NORMAL = NormalDist()


@dataclass(frozen=True, slots=True)
class MatedSearch:
    """Candidate scores of one mated search, best first, and which candidates are mates."""

    scores: Sequence[float]
    mates: Sequence[bool]


def rank1_rate(mated: Sequence[MatedSearch]) -> float:
    if not mated:
        return math.nan
    return sum(1 for search in mated if search.mates and search.mates[0]) / len(mated)


def mate_scores(mated: Sequence[MatedSearch]) -> Scores:
    """The best mate score of each mated search (-inf when no mate is among the candidates)."""
    return np.array([
        max((s for s, mate in zip(search.scores, search.mates, strict=True) if mate),
            default=-math.inf)
        for search in mated
    ], dtype=np.float64)


def top_scores(non_mated: Sequence[Sequence[float]]) -> Scores:
    """The best score of each non-mated search (-inf when it has no candidate)."""
    return np.array([max(scores, default=-math.inf) for scores in non_mated], dtype=np.float64)


def fnir(mate: Scores, threshold: float) -> float:
    return float(np.mean(mate < threshold)) if mate.size else math.nan


def fpir(top: Scores, threshold: float) -> float:
    return float(np.mean(top >= threshold)) if top.size else math.nan


def threshold_for_fpir(top: Scores, target: float) -> float:
    """The lowest threshold whose FPIR over these non-mated searches is at most `target`.

    With n searches, at most floor(target * n) of them may reach the threshold: it is just
    above the (floor(target * n) + 1)-th highest top score.
    """
    if not top.size:
        return math.nan
    allowed = math.floor(target * top.size + 1e-9)
    if allowed >= top.size:
        return -math.inf
    ranked = np.sort(top)[::-1]
    return float(np.nextafter(ranked[allowed], math.inf))


def det_curve(mate: Scores, top: Scores) -> tuple[Scores, Scores, Scores]:
    """(thresholds, FPIR, FNIR) at every distinct finite score."""
    values = np.concatenate([mate, top])
    thresholds = np.unique(values[np.isfinite(values)])
    fpirs = 1.0 - np.searchsorted(np.sort(top), thresholds, side="left") / max(top.size, 1)
    fnirs = np.searchsorted(np.sort(mate), thresholds, side="left") / max(mate.size, 1)
    return thresholds, fpirs, fnirs


@dataclass(frozen=True, slots=True)
class ImpostorTail:
    """FMR(T) from impostor scores, with a normal tail for thresholds beyond the measurement.

    `comparisons` is the number of impostor comparisons behind the scores (searches x gallery
    size); the scores must include every impostor score at or above `floor`.
    """

    scores: Scores  # sorted ascending
    comparisons: int
    floor: float  # FMR is measured only for thresholds >= floor
    intercept: float  # probit fit: isf(FMR(T)) ~ intercept + slope * T
    slope: float

    def measured_fmr(self, threshold: float) -> float:
        if threshold < self.floor:
            return math.nan
        above = self.scores.size - np.searchsorted(self.scores, threshold, side="left")
        return float(above) / self.comparisons

    def fmr(self, threshold: float) -> float:
        """The normal-tail model of FMR at `threshold`."""
        return 1.0 - _NORMAL.cdf(self.intercept + self.slope * threshold)

    def threshold_for_fmr(self, fmr: float) -> float:
        return (_NORMAL.inv_cdf(1.0 - fmr) - self.intercept) / self.slope

    def threshold_for(self, fpir_target: float, gallery_size: int) -> float:
        """Threshold keeping FPIR at `fpir_target` on a gallery of `gallery_size` entries."""
        per_comparison = -math.expm1(math.log1p(-fpir_target) / gallery_size)
        return self.threshold_for_fmr(per_comparison)


def impostor_tail(
    non_mated: Sequence[Sequence[float]], gallery_size: int, listed: int,
    listed_from: float = -math.inf,
) -> ImpostorTail | None:
    """Fit the impostor tail from non-mated top-`listed` lists over a gallery of `gallery_size`.

    Below a list's last score some impostor scores are missing, so FMR is measured only above
    the highest last score of the full lists (and above `listed_from`, when the search listed
    no candidate below it). None when there is too little to fit.
    """
    lists = [scores for scores in non_mated if scores]
    if not lists or gallery_size < 1:
        return None
    full = [min(scores) for scores in lists if len(scores) >= listed]
    floor = max([listed_from, *full])
    flat = np.sort(np.concatenate([np.asarray(scores, dtype=np.float64) for scores in lists]))
    comparisons = len(non_mated) * gallery_size
    tail = flat[flat >= floor]
    if tail.size < 5:
        return None
    # Probit points at the distinct tail scores, each FMR = share of comparisons at or above.
    thresholds = np.unique(tail)
    above = flat.size - np.searchsorted(flat, thresholds, side="left")
    fmrs = above / comparisons
    z = np.array([_NORMAL.inv_cdf(1.0 - value) for value in fmrs])
    slope, intercept = np.polyfit(thresholds, z, 1)
    if not slope > 0:
        return None
    return ImpostorTail(flat, comparisons, floor, float(intercept), float(slope))
