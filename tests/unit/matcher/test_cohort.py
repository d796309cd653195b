"""Cohort z-normalisation: the per-probe threshold decides exactly as z >= T would, on the exact
and the fast engine, and a mate in the cohort does not inflate the probe's statistics."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from matcher import (
    Cohort,
    Eligibility,
    EntryMeta,
    FastIndexParams,
    Gallery,
    IndexKind,
    MatcherConfig,
    Modality,
    SearchOutcome,
    Templates,
    search_normalised,
)

CONFIG = MatcherConfig(finger_dim=64, face_dim=128)
DIM = CONFIG.finger_dim
EVERYONE = Eligibility(groups=frozenset(range(256)))
Z = 2.5


def _unit(rng: np.random.Generator, *shape: int) -> npt.NDArray[np.float32]:
    x: npt.NDArray[np.float32] = rng.standard_normal(shape).astype(np.float32)
    x /= np.linalg.norm(x, axis=-1, keepdims=True)
    return x


def _capture(rng: np.random.Generator, fingers: npt.NDArray[np.float32], noise: float,
             with_face: bool = True) -> Templates:
    noisy = fingers + noise * _unit(rng, *fingers.shape)
    noisy /= np.linalg.norm(noisy, axis=-1, keepdims=True)
    kept = rng.choice(10, size=int(rng.integers(2, 11)), replace=False).tolist()
    # Unrelated faces (the fast engine indexes both modalities); probes have none, so every
    # hit is a fingerprint hit.
    face = _unit(rng, CONFIG.face_dim) if with_face else None
    return Templates(fingers={p + 1: noisy[p] for p in kept}, face=face)


@pytest.fixture(scope="module")
def population() -> tuple[list[tuple[int, Templates, EntryMeta]], list[Templates]]:
    rng = np.random.default_rng(5)
    # A shared direction with a per-person strength: some persons score high against many.
    shared = _unit(rng, DIM)
    fingers = _unit(rng, 900, 10, DIM)
    strength = np.exp(0.8 * rng.standard_normal((900, 1, 1))).astype(np.float32)
    fingers = fingers + 0.6 * strength * shared
    fingers /= np.linalg.norm(fingers, axis=-1, keepdims=True)
    entries = [(i, _capture(rng, fingers[i], 0.3), EntryMeta(group=0, member_state=0))
               for i in range(800)]
    probes = [_capture(rng, fingers[i], float(rng.uniform(0.3, 2.0)), with_face=False)
              for i in rng.choice(800, size=30, replace=False).tolist()]
    probes += [_capture(rng, fingers[i], 0.3, with_face=False) for i in range(800, 900)]
    return entries, probes


def _gallery(kind: IndexKind, entries: list[tuple[int, Templates, EntryMeta]]) -> Gallery:
    held = {i: t for i, t, _ in entries}
    gallery = Gallery(CONFIG, index=kind, fast=FastIndexParams(subvector_dim=8, candidates=64),
                      source=(lambda ids: {i: held[i] for i in ids if i in held})
                      if kind is IndexKind.FAST else None)
    gallery.add_many(entries)
    return gallery


@pytest.mark.parametrize("kind", [IndexKind.EXACT, IndexKind.FAST])
def test_normalised_decisions_are_z_at_least_the_threshold(
    population: tuple[list[tuple[int, Templates, EntryMeta]], list[Templates]],
    kind: IndexKind,
) -> None:
    entries, probes = population
    cohort = Cohort(CONFIG, [t for _, t, _ in entries[:120]])  # drawn from the gallery
    means, sds = cohort.statistics(probes)
    assert np.ptp(sds) > 0.1 * sds.mean()  # the probes' impostor spreads differ
    every = _gallery(IndexKind.EXACT, entries).search_many(
        probes, [EVERYONE] * len(probes), finger_threshold=-10.0)
    found = search_normalised(_gallery(kind, entries), cohort, probes,
                              [EVERYONE] * len(probes), finger_z=Z)
    hits = 0
    for outcome, all_pairs, mean, sd in zip(found, every, means, sds, strict=True):
        expected = {h.entry_id: (h.score - mean) / sd for h in all_pairs.hits
                    if h.modality is Modality.FINGERPRINT and (h.score - mean) / sd >= Z}
        hits += assert_hits_are(outcome, expected)
    assert hits > 0


def assert_hits_are(outcome: SearchOutcome, expected: dict[int, float]) -> int:
    """The outcome's hits are exactly `expected` (entry id: normalised score), best first;
    returns how many."""
    got = {h.entry_id: h.score for h in outcome.hits}
    assert got.keys() == expected.keys()
    assert all(got[i] == pytest.approx(expected[i], abs=1e-4) for i in got)
    assert [h.score for h in outcome.hits] == sorted(got.values(), reverse=True)
    return len(got)


def test_a_mate_in_the_cohort_does_not_inflate_the_statistics(
    population: tuple[list[tuple[int, Templates, EntryMeta]], list[Templates]],
) -> None:
    entries, probes = population
    others = [t for _, t, _ in entries[100:400]]
    probe = entries[0][1]
    alone = Cohort(CONFIG, others).statistics([probe])
    with_mate = Cohort(CONFIG, [probe, *others]).statistics([probe])
    assert with_mate[0][0] == pytest.approx(alone[0][0], abs=0.02)
    assert with_mate[1][0] == pytest.approx(alone[1][0], rel=0.1)


def test_a_probe_without_comparable_cohort_fingers_uses_the_isotropic_spread() -> None:
    rng = np.random.default_rng(1)
    cohort = Cohort(CONFIG, [Templates(fingers={1: _unit(rng, DIM)}, face=None)])
    means, sds = cohort.statistics([Templates(fingers={2: _unit(rng, DIM)}, face=None)])
    assert means[0] == 0.0
    assert sds[0] == pytest.approx(1 / np.sqrt(CONFIG.finger_dim))
