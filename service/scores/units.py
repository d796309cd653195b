"""The unit of ABIS_FINGER_THRESHOLD follows ABIS_SCORE_NORMALISATION; a mix-up stops the start.

A raw fused score is a sum of cosines over sqrt(fingers compared), so it never exceeds
sqrt(10) (ten fingers, all identical). A cohort z-score measures a probe's raw score in units
of its own impostor spread; thresholds that hold an FPIR of 1e-3 lie near 6-8 (docs/accuracy.md),
and a z threshold of sqrt(10) or less would let about one impostor comparison in a thousand
through, so every search of a gallery of a few thousand would hit. The two ranges do not meet:
a threshold above sqrt(10) without normalisation (a z threshold: no score could ever reach it,
every fingerprint search would miss) or at most sqrt(10) with it (a raw one: nearly every
search would hit) is certainly the wrong unit, and refused rather than served.
"""

from __future__ import annotations

import math

from service.errors import ConfigurationError
from service.settings import Settings

RAW_CEILING = math.sqrt(10)  # the highest fused score: ten fingers compared, each cosine 1


def require_threshold_units(settings: Settings) -> None:
    threshold = settings.finger_threshold
    if settings.score_normalisation == "cohort" and threshold <= RAW_CEILING:
        raise ConfigurationError(
            f"ABIS_FINGER_THRESHOLD={threshold:g} is a raw fused score, but "
            "ABIS_SCORE_NORMALISATION=cohort decides on cohort z-scores: set a z threshold "
            f"above {RAW_CEILING:.3f} (`abis calibrate` prints one, e.g. about 7 for FPIR 1e-3)"
            " or ABIS_SCORE_NORMALISATION=none")
    if settings.score_normalisation == "none" and threshold > RAW_CEILING:
        raise ConfigurationError(
            f"ABIS_FINGER_THRESHOLD={threshold:g} is above any raw fused score (at most "
            f"{RAW_CEILING:.3f}): it looks like a cohort z threshold, which needs "
            "ABIS_SCORE_NORMALISATION=cohort; without it no fingerprint search could hit")
