"""Cohort score normalisation (z-norm) of fused fingerprint scores: a per-probe threshold.

Impostor scores of real fingerprint templates are not alike across probes: a probe whose
template sits where the population is dense (a common pattern class, shared by all of a
person's fingers) scores high against many unrelated persons, so its impostor distribution is
wider and heavier-tailed than another's, and one threshold on raw fused scores lets false
matches grow with the gallery. Z-normalisation (Auckenthaler, Carey and Lloyd-Thomas, "Score
normalization for text-independent speaker verification systems", DSP 10, 2000; applied to
fingerprint identification in Jain, Nandakumar and Ross, "Score normalization in multimodal
biometric systems", Pattern Recognition 38, 2005, and in large-scale search as "cohort
normalisation") scores each probe against a fixed cohort of gallery entries and measures its
raw fused scores in units of that probe's own impostor spread:

    z = (s - mean_cohort(probe)) / sd_cohort(probe).

The top 1 % of the cohort scores is left out of the statistics, so a mate (or a linked
dataset of the same person) in the cohort does not inflate them. A probe with fewer than
`_MIN_SCORES` comparable cohort scores falls back to the isotropic model (mean 0, sd
1/sqrt(finger_dim)). Face scores are not normalised.

The transform is monotone per probe, so deciding `z >= T` is deciding `s >= mean + T sd` on
the raw score: `search_normalised` searches the gallery (exact or fast) once at the lowest of
the batch's per-probe raw thresholds and keeps, per probe, the finger hits that reach its own.
The decision is therefore exact wherever the engine's is (the fast engine re-scores every
candidate near its threshold exactly), and the reported finger score is z.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from ._config import IndexKind, MatcherConfig
from ._eligibility import Eligibility, EntryMeta
from ._gallery import Gallery
from ._scoring import Modality, SearchOutcome
from ._templates import Templates

_MIN_SCORES = 20
_TRIM = 0.01  # share of the highest cohort scores left out (mates, linked datasets)
_EVERYONE = Eligibility(groups=frozenset(range(256)))
_ALL_SCORES = -1e6  # any comparable cohort pair is listed
_NO_FACE = 2.0  # above any cosine: the cohort is compared by fingerprints only


class Cohort:
    """A fixed cohort of templates (drawn from the gallery) and the per-probe statistics of
    fused fingerprint scores against it."""

    def __init__(self, config: MatcherConfig, templates: Sequence[Templates]) -> None:
        self._exact = Gallery(config, index=IndexKind.EXACT)
        self._exact.add_many(
            (i, t, EntryMeta(group=0, member_state=0)) for i, t in enumerate(templates) if t.fingers
        )
        self._fallback_sd = 1.0 / math.sqrt(config.finger_dim)

    def __len__(self) -> int:
        return len(self._exact)

    def statistics(
        self, probes: Sequence[Templates]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Per probe: mean and standard deviation of its trimmed cohort finger scores."""
        means = np.zeros(len(probes))
        sds = np.full(len(probes), self._fallback_sd)
        if not probes or len(self._exact) == 0:
            return means, sds
        outcomes = self._exact.search_many(
            list(probes),
            [_EVERYONE] * len(probes),
            finger_threshold=_ALL_SCORES,
            face_threshold=_NO_FACE,
        )
        for i, outcome in enumerate(outcomes):
            scores = np.sort([h.score for h in outcome.hits if h.modality is Modality.FINGERPRINT])
            if scores.size < _MIN_SCORES:
                continue
            kept = scores[: scores.size - math.ceil(_TRIM * scores.size)]
            means[i] = float(kept.mean())
            sds[i] = max(float(kept.std()), 1e-6)
        return means, sds


    def normalise(
        self,
        outcomes: Sequence[SearchOutcome],
        means: npt.NDArray[np.float64],
        sds: npt.NDArray[np.float64],
        finger_z: float,
    ) -> list[SearchOutcome]:
        """Per probe (with its `statistics`): the finger hits at z >= `finger_z`, scored in z,
        face hits as they are; `outcomes` must come from a search at or below every probe's
        raw threshold (mean + finger_z sd)."""
        normalised = []
        for outcome, mean, sd in zip(outcomes, means, sds, strict=True):
            threshold = mean + finger_z * sd
            hits = [
                h
                if h.modality is not Modality.FINGERPRINT
                else dataclasses.replace(h, score=float((h.score - mean) / sd))
                for h in outcome.hits
                if h.modality is not Modality.FINGERPRINT or h.score >= threshold
            ]
            hits.sort(key=lambda h: (-h.score, h.entry_id))
            normalised.append(SearchOutcome(tuple(hits)))
        return normalised


def search_normalised(
    gallery: Gallery,
    cohort: Cohort,
    probes: Sequence[Templates],
    eligibles: Sequence[Eligibility],
    *,
    finger_z: float,
    face_threshold: float | None = None,
    limit: int | None = None,
) -> list[SearchOutcome]:
    """`gallery.search_many` deciding fingerprints at z >= `finger_z` (see the module); with a
    `limit`, each probe's best `limit` by raw score, which are its best by z too."""
    if not probes:
        return []
    means, sds = cohort.statistics(probes)
    outcomes = gallery.search_many(
        probes,
        eligibles,
        finger_threshold=float((means + finger_z * sds).min()),
        face_threshold=face_threshold,
        limit=limit,
    )
    return cohort.normalise(outcomes, means, sds, finger_z)
