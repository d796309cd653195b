"""Property: the Gallery's hits equal a brute-force oracle that applies the scoring rule literally.

Structure (finger subsets, qualities, faces, groups, Member States, marks, removals, probes and
eligibility) is drawn by hypothesis; vector values come from a numpy generator seeded by
hypothesis, which keeps examples fast while still shrinking the structure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher import (
    FINGER_POSITIONS,
    Eligibility,
    EntryMeta,
    Gallery,
    MatcherConfig,
    Modality,
    SearchOutcome,
    Templates,
    compare,
)

DIM = 8
CONFIG = MatcherConfig(finger_dim=DIM, face_dim=DIM, min_quality=0.3)
TOLERANCE = 1e-4
Vec = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Entry:
    entry_id: int
    templates: Templates
    meta: EntryMeta


# -- the oracle: the scoring rule, written out literally in float64 ------------------------------


def _usable(vec: Vec | None) -> npt.NDArray[np.float64] | None:
    if vec is None:
        return None
    wide = vec.astype(np.float64)
    norm = float(np.sqrt(np.sum(wide * wide)))
    return wide / norm if norm >= CONFIG.min_quality else None


def oracle_score(probe: Templates, entry: Templates) -> tuple[float, Modality, int] | None:
    common = [
        p for p in FINGER_POSITIONS
        if p in probe.fingers and p in entry.fingers
        and _usable(probe.fingers[p]) is not None and _usable(entry.fingers[p]) is not None
    ]
    if common:
        total = sum(
            float(np.dot(_usable(probe.fingers[p]), _usable(entry.fingers[p])))  # type: ignore[arg-type]
            for p in common
        )
        return total / math.sqrt(len(common)), Modality.FINGERPRINT, len(common)
    face_p, face_e = _usable(probe.face), _usable(entry.face)
    if face_p is not None and face_e is not None:
        return float(np.dot(face_p, face_e)), Modality.FACE, 0
    return None


def oracle_eligible(meta: EntryMeta, eligible: Eligibility) -> bool:
    if meta.member_state == eligible.exclude_member_state:
        return False
    return meta.group in eligible.groups or (
        meta.group in eligible.marked_only_groups and meta.marked
    )


def oracle_scores(
    entries: dict[int, Entry], probe: Templates, eligible: Eligibility
) -> dict[int, tuple[float, Modality, int]]:
    scores = {}
    for entry in entries.values():
        if oracle_eligible(entry.meta, eligible):
            result = oracle_score(probe, entry.templates)
            if result is not None:
                scores[entry.entry_id] = result
    return scores


# -- generation -----------------------------------------------------------------------------------


def _vector(rng: np.random.Generator, poor: bool) -> Vec:
    direction = rng.standard_normal(DIM)
    direction /= np.linalg.norm(direction)
    # Norms well clear of min_quality on either side, so float rounding cannot flip usability.
    norm = rng.uniform(0.05, 0.25) if poor else rng.uniform(0.35, 3.0)
    return (direction * norm).astype(np.float32)


def _templates(
    rng: np.random.Generator, positions: list[int], poor: list[bool], face: int
) -> Templates:
    return Templates(
        fingers={p: _vector(rng, bad) for p, bad in zip(positions, poor, strict=True)},
        face=None if face == 0 else _vector(rng, poor=face == 1),
    )


def _noisy_copy(rng: np.random.Generator, source: Templates, keep: list[int]) -> Templates:
    """A mate: some of the source's fingers with small noise, its face likewise."""

    def noisy(vec: Vec) -> Vec:
        return (vec + rng.normal(0.0, 0.05, DIM) * np.linalg.norm(vec)).astype(np.float32)

    kept = [p for p in source.fingers if p in keep] or list(source.fingers)[:1]
    return Templates(
        fingers={p: noisy(source.fingers[p]) for p in kept},
        face=None if source.face is None else noisy(source.face),
    )


def _positions(bits: int) -> list[int]:
    return [p for p in FINGER_POSITIONS if bits >> (p - 1) & 1]


# One integer per entry, probe or eligibility, decoded bit by bit: few draws keep hypothesis fast,
# and shrinking towards 0 still simplifies (fewer fingers, no face, group 0, unmarked).
entry_codes = st.integers(0, 2**18 - 1)  # fingers:10 poor:1 face:2 group:2 ms:2 marked:1
probe_codes = st.integers(0, 2**14 - 1)  # fingers:10 mate:1 face:2 poor:1
eligibility_codes = st.integers(0, 2**11 - 1)  # groups:4 marked-only:4 exclude:3


def _eligibility(code: int) -> Eligibility:
    exclude = code >> 8 & 7
    return Eligibility(
        groups=frozenset(g for g in range(4) if code >> g & 1),
        marked_only_groups=frozenset(g for g in range(4) if code >> (4 + g) & 1),
        exclude_member_state=exclude if exclude < 4 else None,
    )


Scenario = tuple[Gallery, dict[int, Entry], list[Templates], list[Eligibility]]


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    codes = draw(st.lists(entry_codes, max_size=24))
    entries: dict[int, Entry] = {}
    for entry_id, code in zip(rng.choice(10_000, len(codes), replace=False).tolist(), codes,
                              strict=True):
        positions = _positions(code)
        # Some entries have a few poor fingers among good ones.
        poor = [bool(code >> 10 & 1) and rng.random() < 0.4 for _ in positions]
        face = code >> 11 & 3  # 0 none, 1 poor, 2-3 usable
        meta = EntryMeta(group=code >> 13 & 3, member_state=code >> 15 & 3, marked=bool(code >> 17))
        entries[entry_id] = Entry(entry_id, _templates(rng, positions, poor, min(face, 2)), meta)

    gallery = Gallery(CONFIG)
    ordered = list(entries.values())
    split = draw(st.integers(0, len(ordered)))
    for entry in ordered[:split]:
        gallery.add(entry.entry_id, entry.templates, entry.meta)
    gallery.add_many((e.entry_id, e.templates, e.meta) for e in ordered[split:])

    # Per entry: 0 keep, 1 remove, 2 flip the mark (removing over a quarter triggers compaction).
    for entry, change in zip(ordered, draw(st.lists(st.integers(0, 2), max_size=len(ordered))),
                             strict=False):
        if change == 1:
            gallery.remove(entry.entry_id)
            del entries[entry.entry_id]
        elif change == 2:
            meta = EntryMeta(entry.meta.group, entry.meta.member_state, not entry.meta.marked)
            gallery.set_marked(entry.entry_id, meta.marked)
            entries[entry.entry_id] = Entry(entry.entry_id, entry.templates, meta)

    probes: list[Templates] = []
    eligibles: list[Eligibility] = []
    for code in draw(st.lists(probe_codes, min_size=1, max_size=6)):
        if ordered and code >> 10 & 1:
            # A mate, possibly of a removed entry (which must then find nothing).
            source = ordered[int(rng.integers(len(ordered)))].templates
            probes.append(_noisy_copy(rng, source, _positions(code)))
        else:
            positions = _positions(code)
            poor = [bool(code >> 13) and rng.random() < 0.4 for _ in positions]
            probes.append(_templates(rng, positions, poor, min(code >> 11 & 3, 2)))
        eligibles.append(_eligibility(draw(eligibility_codes)))
    return gallery, entries, probes, eligibles


thresholds = st.sampled_from([None, 0.9, 0.2, 0.0, -0.3, -1.0, -5.0])


# -- properties -----------------------------------------------------------------------------------


def assert_matches_oracle(
    outcome: SearchOutcome,
    expected: dict[int, tuple[float, Modality, int]],
    finger_threshold: float,
    face_threshold: float,
) -> None:
    def threshold(modality: Modality) -> float:
        return finger_threshold if modality is Modality.FINGERPRINT else face_threshold

    # Scores within TOLERANCE of the threshold may fall either side in float32.
    borderline = {
        i for i, (score, modality, _) in expected.items()
        if abs(score - threshold(modality)) < TOLERANCE
    }
    wanted = {i for i, (score, modality, _) in expected.items() if score >= threshold(modality)}
    got = {hit.entry_id for hit in outcome.hits}
    assert got - borderline == wanted - borderline
    for hit in outcome.hits:
        score, modality, count = expected[hit.entry_id]
        assert abs(hit.score - score) < TOLERANCE
        assert (hit.modality, hit.fingers_compared) == (modality, count)
    keys = [(-hit.score, hit.entry_id) for hit in outcome.hits]
    assert keys == sorted(keys)


@settings(max_examples=200, deadline=None)
@given(
    scenario=scenarios(),
    finger_threshold=thresholds,
    face_threshold=thresholds,
    limit=st.integers(1, 5),
)
def test_gallery_equals_oracle(
    scenario: Scenario, finger_threshold: float | None, face_threshold: float | None, limit: int
) -> None:
    gallery, entries, probes, eligibles = scenario
    assert len(gallery) == len(entries)
    assert all(entry_id in gallery for entry_id in entries)
    resolved_finger = CONFIG.finger_threshold if finger_threshold is None else finger_threshold
    resolved_face = CONFIG.face_threshold if face_threshold is None else face_threshold
    outcomes = gallery.search_many(
        probes, eligibles, finger_threshold=finger_threshold, face_threshold=face_threshold
    )
    for probe, eligible, outcome in zip(probes, eligibles, outcomes, strict=True):
        expected = oracle_scores(entries, probe, eligible)
        assert outcome == gallery.search(
            probe, eligible, finger_threshold=finger_threshold, face_threshold=face_threshold
        )
        assert_matches_oracle(outcome, expected, resolved_finger, resolved_face)
        top = gallery.search(
            probe, eligible, finger_threshold=finger_threshold, face_threshold=face_threshold,
            limit=limit,
        )
        # The top `limit` of the unlimited outcome, up to ties at the cut.
        best = outcome.hits[:limit]
        assert len(top.hits) == len(best)
        assert all(abs(a.score - b.score) < TOLERANCE for a, b in zip(top.hits, best, strict=True))
        assert_matches_oracle(
            SearchOutcome(top.hits), {h.entry_id: expected[h.entry_id] for h in top.hits},
            resolved_finger, resolved_face,
        )


@settings(max_examples=50, deadline=None)
@given(scenario=scenarios())
def test_compare_equals_oracle(scenario: Scenario) -> None:
    _, entries, probes, _ = scenario
    for probe in probes:
        for entry in entries.values():
            expected = oracle_score(probe, entry.templates)
            result = compare(probe, entry.templates, CONFIG)
            if expected is None:
                assert result is None
            else:
                assert result is not None
                assert abs(result.score - expected[0]) < TOLERANCE
                assert (result.modality, result.fingers_compared) == expected[1:]
