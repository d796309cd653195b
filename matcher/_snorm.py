"""Symmetric cohort score normalisation (s-norm) of fused fingerprint scores: a per-pair
threshold.

Z-normalisation (`_cohort`) measures a raw fused score in units of the *probe's* impostor
spread. It leaves the gallery side as it is: an enrolled template that sits where the
population is dense still scores high against many unrelated probes. S-norm (symmetric
normalisation, from speaker verification: Kenny, "Bayesian speaker verification with
heavy-tailed priors", Odyssey 2010) normalises both sides against the same cohort and
averages:

    s_norm = ((s - mean_p) / sd_p + (s - mean_g) / sd_g) / 2,

with (mean_p, sd_p) the probe's cohort statistics (computed per search) and (mean_g, sd_g)
the gallery entry's (computed once, when the entry is added, and kept beside it in
`EntryNorms`). Statistics are trimmed and fall back exactly as `Cohort.statistics` does.

The decision s_norm >= T is, for one pair, a raw threshold on s (both sds are positive):

    s >= (2 T + mean_p / sd_p + mean_g / sd_g) / (1 / sd_p + 1 / sd_g).

`search_symmetric` takes, per probe, the lowest such raw threshold over every entry held,
searches the gallery once at the batch's lowest, and keeps exactly the pairs whose s-norm
score reaches T. Decisions are therefore exact wherever the engine's are (the fast engine
re-scores every candidate near its threshold exactly), and the reported finger score is
s_norm. Face scores are not normalised.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

from ._cohort import Cohort
from ._eligibility import Eligibility
from ._exceptions import DuplicateEntryError, MatcherError, UnknownEntryError
from ._gallery import Gallery
from ._scoring import Modality, SearchOutcome
from ._templates import Templates

# The raw floor is lowered by this much so that rounding in solving the pair inequality can
# only let more candidates through (they are then decided on s_norm itself), never fewer.
_SLACK = 1e-6
_BATCH = 256  # entries whose statistics are computed together


class EntryNorms:
    """Per-gallery-entry cohort statistics (mean, sd of each entry's fused finger scores against
    the cohort), kept beside the gallery: add an entry's when it is added, remove them when it
    is removed (an erased person must not keep a place here)."""

    def __init__(self, cohort: Cohort) -> None:
        self.cohort = cohort
        self._stats: dict[int, tuple[float, float]] = {}
        self._arrays: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]] | None = None

    def __len__(self) -> int:
        return len(self._stats)

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self._stats

    def add_many(self, entries: Iterable[tuple[int, Templates]]) -> int:
        """Compute and keep the statistics of these entries; returns how many were added.
        Raises DuplicateEntryError (nothing of that batch kept) for an entry already held."""
        added = 0
        batch: list[tuple[int, Templates]] = []
        for entry in entries:
            batch.append(entry)
            if len(batch) == _BATCH:
                added += self._add(batch)
                batch = []
        return added + self._add(batch)

    def _add(self, batch: list[tuple[int, Templates]]) -> int:
        for entry_id, _ in batch:
            if entry_id in self._stats:
                raise DuplicateEntryError(entry_id)
        if not batch:
            return 0
        means, sds = self.cohort.statistics([t for _, t in batch])
        for (entry_id, _), mean, sd in zip(batch, means, sds, strict=True):
            self._stats[entry_id] = (float(mean), float(sd))
        self._arrays = None
        return len(batch)

    def remove(self, entry_id: int) -> None:
        """Drop an entry's statistics. Raises UnknownEntryError."""
        if self._stats.pop(entry_id, None) is None:
            raise UnknownEntryError(entry_id)
        self._arrays = None

    def statistics_of(self, entry_id: int) -> tuple[float, float]:
        """(mean, sd) of one entry. Raises UnknownEntryError."""
        try:
            return self._stats[entry_id]
        except KeyError:
            raise UnknownEntryError(entry_id) from None

    def raw_floors(self, means: npt.NDArray[np.float64], sds: npt.NDArray[np.float64],
                   finger_threshold: float) -> npt.NDArray[np.float64]:
        """Per probe (its cohort mean and sd): the lowest raw fused score at which any entry
        held could reach s_norm >= `finger_threshold`."""
        if not self._stats:
            return np.full(means.shape, np.inf)
        if self._arrays is None:
            held = np.array(list(self._stats.values()), dtype=np.float64)
            self._arrays = (1.0 / held[:, 1], held[:, 0] / held[:, 1])
        inv_sd, mean_over_sd = self._arrays
        floors = np.empty(means.shape)
        for i, (mean, sd) in enumerate(zip(means, sds, strict=True)):
            needed = (2 * finger_threshold + mean / sd + mean_over_sd) / (1 / sd + inv_sd)
            floors[i] = needed.min()
        return floors - _SLACK


def snorm(raw: float, probe: tuple[float, float], entry: tuple[float, float]) -> float:
    """The s-norm score of a raw fused score, given the probe's and the entry's (mean, sd)."""
    return 0.5 * ((raw - probe[0]) / probe[1] + (raw - entry[0]) / entry[1])


def search_symmetric(
    gallery: Gallery,
    norms: EntryNorms,
    probes: Sequence[Templates],
    eligibles: Sequence[Eligibility],
    *,
    finger_threshold: float,
    face_threshold: float | None = None,
    limit: int | None = None,
) -> list[SearchOutcome]:
    """`gallery.search_many` deciding fingerprints at s_norm >= `finger_threshold` (see the
    module), finger hits scored in s_norm; with a `limit`, each probe's best `limit` by that
    score. `norms` must hold every entry of the gallery (MatcherError otherwise)."""
    if len(norms) != len(gallery):
        raise MatcherError(f"the gallery holds {len(gallery)} entries but the entry statistics "
                           f"{len(norms)}: add and remove them together")
    if not probes:
        return []
    means, sds = norms.cohort.statistics(probes)
    floor = float(norms.raw_floors(means, sds, finger_threshold).min())
    outcomes = gallery.search_many(
        probes, eligibles,
        finger_threshold=floor if np.isfinite(floor) else None,
        face_threshold=face_threshold,
    )
    found = []
    for outcome, mean, sd in zip(outcomes, means, sds, strict=True):
        hits = []
        for hit in outcome.hits:
            if hit.modality is not Modality.FINGERPRINT:
                hits.append(hit)
                continue
            score = snorm(hit.score, (float(mean), float(sd)), norms.statistics_of(hit.entry_id))
            if score >= finger_threshold:
                hits.append(dataclasses.replace(hit, score=score))
        hits.sort(key=lambda h: (-h.score, h.entry_id))
        found.append(SearchOutcome(tuple(hits[:limit])))
    return found
