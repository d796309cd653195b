"""Symmetric cohort normalisation (s-norm): the per-pair threshold decides exactly as
s_norm >= T would, on the exact and the fast engine, and a removed entry's statistics go."""

from __future__ import annotations

import numpy as np
import pytest

from matcher import (
    Cohort,
    DuplicateEntryError,
    EntryMeta,
    EntryNorms,
    IndexKind,
    MatcherError,
    Modality,
    SearchOutcome,
    Templates,
    UnknownEntryError,
    search_symmetric,
    snorm,
)

from .test_cohort import (  # noqa: F401 (population: a fixture)
    CONFIG,
    EVERYONE,
    _gallery,
    assert_hits_are,
    population,
)

T = 2.5
Population = tuple[list[tuple[int, Templates, EntryMeta]], list[Templates]]


def every_raw(outcome: SearchOutcome, entry_id: int) -> float:
    return next(h.score for h in outcome.hits if h.entry_id == entry_id)


def _norms(cohort: Cohort, entries: list[tuple[int, Templates, EntryMeta]]) -> EntryNorms:
    norms = EntryNorms(cohort)
    assert norms.add_many((i, t) for i, t, _ in entries) == len(entries)
    return norms


@pytest.mark.parametrize("kind", [IndexKind.EXACT, IndexKind.FAST])
def test_symmetric_decisions_are_snorm_at_least_the_threshold(
    population: Population, kind: IndexKind,  # noqa: F811
) -> None:
    entries, probes = population
    cohort = Cohort(CONFIG, [t for _, t, _ in entries[:120]])  # drawn from the gallery
    norms = _norms(cohort, entries)
    probe_means, probe_sds = cohort.statistics(probes)
    # Brute force, independently of EntryNorms: every pair's raw score, both sides' statistics
    # straight from the cohort.
    entry_means, entry_sds = cohort.statistics([t for _, t, _ in entries])
    entry_stats = {i: (m, s) for (i, _, _), m, s in zip(entries, entry_means, entry_sds,
                                                         strict=True)}
    assert np.ptp(entry_sds) > 0.1 * entry_sds.mean()  # the entries' spreads differ too
    every = _gallery(IndexKind.EXACT, entries).search_many(
        probes, [EVERYONE] * len(probes), finger_threshold=-10.0)
    found = search_symmetric(_gallery(kind, entries), norms, probes, [EVERYONE] * len(probes),
                             finger_threshold=T)
    hits = differ = 0
    for outcome, all_pairs, mean, sd in zip(found, every, probe_means, probe_sds, strict=True):
        scored = {h.entry_id: 0.5 * ((h.score - mean) / sd + (h.score - entry_stats[h.entry_id][0])
                                     / entry_stats[h.entry_id][1])
                  for h in all_pairs.hits if h.modality is Modality.FINGERPRINT}
        expected = {i: s for i, s in scored.items() if s >= T}
        # Pairs the per-probe z rule decides otherwise: the test tells s-norm from z-norm.
        differ += sum(1 for i, s in scored.items()
                      if (s >= T) != ((every_raw(all_pairs, i) - mean) / sd >= T))
        hits += assert_hits_are(outcome, expected)
    assert hits > 0
    assert differ > 0


def test_a_limit_keeps_the_best_by_snorm(population: Population) -> None:  # noqa: F811
    entries, probes = population
    norms = _norms(Cohort(CONFIG, [t for _, t, _ in entries[:120]]), entries)
    gallery = _gallery(IndexKind.EXACT, entries)
    full = search_symmetric(gallery, norms, probes, [EVERYONE] * len(probes),
                            finger_threshold=T)
    limited = search_symmetric(gallery, norms, probes, [EVERYONE] * len(probes),
                               finger_threshold=T, limit=2)
    assert [o.hits[:2] for o in full] == [o.hits for o in limited]


def test_a_removed_entry_leaves_the_statistics_and_the_results(
    population: Population,  # noqa: F811
) -> None:
    entries, probes = population
    norms = _norms(Cohort(CONFIG, [t for _, t, _ in entries[:120]]), entries)
    gallery = _gallery(IndexKind.EXACT, entries)
    before = search_symmetric(gallery, norms, probes, [EVERYONE] * len(probes),
                              finger_threshold=T)
    gone = next(h.entry_id for o in before for h in o.hits)
    gallery.remove(gone)
    with pytest.raises(MatcherError):  # the gallery and its statistics must change together
        search_symmetric(gallery, norms, probes, [EVERYONE] * len(probes), finger_threshold=T)
    norms.remove(gone)
    assert gone not in norms
    with pytest.raises(UnknownEntryError):
        norms.statistics_of(gone)
    with pytest.raises(UnknownEntryError):
        norms.remove(gone)
    after = search_symmetric(gallery, norms, probes, [EVERYONE] * len(probes),
                             finger_threshold=T)
    assert all(h.entry_id != gone for o in after for h in o.hits)
    assert ([[h for h in o.hits if h.entry_id != gone] for o in before]
            == [list(o.hits) for o in after])
    with pytest.raises(DuplicateEntryError):
        norms.add_many([(entries[1][0], entries[1][1])])


def test_snorm_averages_both_sides() -> None:
    assert snorm(1.0, (0.0, 0.5), (0.5, 0.25)) == pytest.approx(0.5 * (2.0 + 2.0))


def test_no_entry_reaches_the_threshold_below_a_probes_raw_floor(
    population: Population,  # noqa: F811
) -> None:
    entries, probes = population
    cohort = Cohort(CONFIG, [t for _, t, _ in entries[:120]])
    norms = _norms(cohort, entries)
    means, sds = cohort.statistics(probes)
    floors = norms.raw_floors(means, sds, T)
    held = [norms.statistics_of(i) for i, _, _ in entries]
    for floor, mean, sd in zip(floors, means, sds, strict=True):
        at_floor = [snorm(floor, (mean, sd), entry) for entry in held]
        assert max(at_floor) <= T  # sound: every pair reaching T is searched for
        assert max(at_floor) == pytest.approx(T, abs=1e-4)  # and tight: one entry needs it
