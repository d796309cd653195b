"""Confidence intervals for error rates: Wilson score intervals for proportions, and a
bootstrap for rates measured at a threshold that is itself estimated from the data."""

from __future__ import annotations

import math
from collections.abc import Callable
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

Z95 = NormalDist().inv_cdf(0.975)


def wilson(errors: int, trials: int, z: float = Z95) -> tuple[float, float, float]:
    """(rate, lower, upper) of `errors` in `trials`, Wilson score interval (95 % by default);
    sound at zero errors, where the normal approximation collapses to a point."""
    if trials <= 0:
        return math.nan, math.nan, math.nan
    p = errors / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return p, max(0.0, centre - half), min(1.0, centre + half)


def bootstrap(statistic: Callable[[npt.NDArray[np.float64], npt.NDArray[np.float64]], float],
              mated: npt.NDArray[np.float64], non_mated: npt.NDArray[np.float64], *,
              replicates: int = 200, seed: int = 0) -> tuple[float, float]:
    """95 % percentile interval of `statistic(mated, non_mated)`, resampling both sets of
    searches with replacement (searches are the independent units)."""
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(replicates):
        a = mated[rng.integers(0, mated.size, mated.size)] if mated.size else mated
        b = non_mated[rng.integers(0, non_mated.size, non_mated.size)] if non_mated.size \
            else non_mated
        values.append(statistic(a, b))
    finite = np.array([v for v in values if math.isfinite(v)])
    if not finite.size:
        return math.nan, math.nan
    return float(np.percentile(finite, 2.5)), float(np.percentile(finite, 97.5))
