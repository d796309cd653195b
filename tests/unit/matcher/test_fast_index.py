"""The fast index (PQ fast-scan candidates + 4-bit re-rank) against the exact one, the oracle.

Agreement, not timing: the same synthetic gallery goes into both, and the fast index with a
template source (as the service runs it) must give the same hits with the same scores. Speed is
measured by `abis bench`, never here.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from matcher import (
    Eligibility,
    EntryMeta,
    FastIndexParams,
    Gallery,
    Hit,
    IndexKind,
    MatcherConfig,
    Modality,
    SearchOutcome,
    Templates,
)

CONFIG = MatcherConfig(finger_dim=64, face_dim=128)
ALL = Eligibility(groups=frozenset(range(4)))
SIZE = 800


def _unit(rng: np.random.Generator, *shape: int) -> npt.NDArray[np.float32]:
    x = rng.standard_normal(shape).astype(np.float32)
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def _capture(
    rng: np.random.Generator, fingers: npt.NDArray[np.float32], face: npt.NDArray[np.float32],
    noise: float, positions: list[int], with_face: bool = True,
) -> Templates:
    varied = fingers + noise * _unit(rng, 10, CONFIG.finger_dim)
    return Templates(
        fingers={p: varied[p - 1] * rng.uniform(0.5, 1.0) for p in positions},
        face=(face + noise * _unit(rng, CONFIG.face_dim)) if with_face else None,
    )


def _positions(rng: np.random.Generator) -> list[int]:
    if rng.random() < 0.3:  # a few fingers missing or unusable
        return sorted(rng.choice(np.arange(1, 11), size=int(rng.integers(1, 10)),
                                 replace=False).tolist())
    return list(range(1, 11))


@pytest.fixture(scope="module")
def population() -> tuple[list[tuple[int, Templates, EntryMeta]], list[Templates]]:
    rng = np.random.default_rng(2026)
    fingers = _unit(rng, SIZE, 10, CONFIG.finger_dim)
    faces = _unit(rng, SIZE, CONFIG.face_dim)
    entries = []
    for i in range(SIZE):
        positions = [] if i % 97 == 0 else _positions(rng)  # some enrolled by face only
        entries.append((1000 + i, _capture(rng, fingers[i], faces[i], 0.8, positions),
                        EntryMeta(group=i % 4, member_state=i % 5, marked=i % 3 == 0)))
    probes = []
    for i in rng.choice(SIZE, size=90, replace=False).tolist():
        # Noise up to 3 puts some mates near the threshold and some below it.
        noise = float(rng.uniform(0.5, 3.0))
        positions = [] if i % 7 == 0 else _positions(rng)
        probes.append(_capture(rng, fingers[i], faces[i], noise, positions))
    fresh_fingers = _unit(rng, 40, 10, CONFIG.finger_dim)
    fresh_faces = _unit(rng, 40, CONFIG.face_dim)
    probes += [_capture(rng, fresh_fingers[i], fresh_faces[i], 0.8, _positions(rng))
               for i in range(40)]
    return entries, probes


def _built(kind: IndexKind, entries: list[tuple[int, Templates, EntryMeta]],
           sourced: bool = True, stored: list[tuple[int, Templates, EntryMeta]] | None = None,
           ) -> Gallery:
    """A gallery of `entries`; a fast one re-checks from a source holding `stored` (default
    `entries`; the store in the service) unless `sourced` is False."""
    held = {entry_id: templates for entry_id, templates, _ in stored or entries}
    gallery = Gallery(CONFIG, index=kind, fast=FastIndexParams(subvector_dim=8, candidates=64),
                      source=(lambda ids: {i: held[i] for i in ids if i in held})
                      if sourced and kind is IndexKind.FAST else None)
    gallery.add_many(entries)
    return gallery


@pytest.fixture(scope="module")
def galleries(
    population: tuple[list[tuple[int, Templates, EntryMeta]], list[Templates]],
) -> tuple[Gallery, Gallery]:
    entries, _ = population
    return _built(IndexKind.EXACT, entries), _built(IndexKind.FAST, entries)


def _hits(outcome: SearchOutcome) -> dict[int, float]:
    return {hit.entry_id: hit.score for hit in outcome.hits}


# With a source every reported score is the exact one. Without, the 4-bit re-rank is within
# ~0.1 of it at these small dimensions (4 sigma), and a pair scored that close to its threshold
# may fall on either side of it.
EXACT = 1e-9
NEAR_4BIT = 0.1


def _assert_agree(expected: list[SearchOutcome], found: list[SearchOutcome],
                  near: float = EXACT) -> None:
    def near_threshold(hit: Hit) -> bool:
        threshold = (CONFIG.face_threshold if hit.modality is Modality.FACE
                     else CONFIG.finger_threshold)
        return abs(hit.score - threshold) < near

    for want, got in zip(expected, found, strict=True):
        wanted = {h.entry_id: h for h in want.hits}
        gotten = {h.entry_id: h for h in got.hits}
        differing = wanted.keys() ^ gotten.keys()
        assert all(near_threshold((wanted | gotten)[i]) for i in differing)
        for entry_id in wanted.keys() & gotten.keys():
            assert gotten[entry_id].score == pytest.approx(wanted[entry_id].score, abs=near)


ELIGIBILITIES = [
    ALL,
    Eligibility(groups=frozenset({0, 1}), exclude_member_state=2),
    Eligibility(groups=frozenset({3}), marked_only_groups=frozenset({1})),
]


@pytest.mark.parametrize("eligible", ELIGIBILITIES)
def test_fast_hits_equal_exact_hits(
    galleries: tuple[Gallery, Gallery],
    population: tuple[list[tuple[int, Templates, EntryMeta]], list[Templates]],
    eligible: Eligibility,
) -> None:
    exact, fast = galleries
    _, probes = population
    expected = exact.search_many(probes, [eligible] * len(probes))
    assert sum(bool(o.hits) for o in expected) > 15  # the set has mates to find
    _assert_agree(expected, fast.search_many(probes, [eligible] * len(probes)))


def test_without_a_source_four_bit_scores_decide_within_their_error(
    galleries: tuple[Gallery, Gallery],
    population: tuple[list[tuple[int, Templates, EntryMeta]], list[Templates]],
) -> None:
    exact, _ = galleries
    entries, probes = population
    fast = _built(IndexKind.FAST, entries, sourced=False)
    _assert_agree(exact.search_many(probes, [ALL] * len(probes)),
                  fast.search_many(probes, [ALL] * len(probes)), near=NEAR_4BIT)


def test_fast_top_k_equals_exact_top_k(
    galleries: tuple[Gallery, Gallery],
    population: tuple[list[tuple[int, Templates, EntryMeta]], list[Templates]],
) -> None:
    exact, fast = galleries
    _, probes = population
    for probe in probes[:20]:
        want = exact.search(probe, ALL, finger_threshold=0.8, face_threshold=0.8, limit=3)
        got = fast.search(probe, ALL, finger_threshold=0.8, face_threshold=0.8, limit=3)
        assert [h.entry_id for h in got.hits] == [h.entry_id for h in want.hits]


def test_removal_and_addition_take_effect_immediately(
    population: tuple[list[tuple[int, Templates, EntryMeta]], list[Templates]],
) -> None:
    entries, probes = population
    fast = _built(IndexKind.FAST, entries[:200], stored=entries[:400])
    exact = _built(IndexKind.EXACT, entries[:200])
    outcomes = exact.search_many(probes, [ALL] * len(probes))
    found = next(o.hits[0].entry_id for o in outcomes if o.hits)
    fast.remove(found)
    exact.remove(found)
    _assert_agree(exact.search_many(probes, [ALL] * len(probes)),
                  fast.search_many(probes, [ALL] * len(probes)))
    assert all(found not in _hits(o) for o in fast.search_many(probes, [ALL] * len(probes)))
    # Removing most rows forces a compaction; then the rest is added one at a time.
    for entry_id, _, _ in entries[:150]:
        if entry_id != found:
            fast.remove(entry_id)
            exact.remove(entry_id)
    for entry in entries[200:400]:
        fast.add(*entry)
        exact.add(*entry)
    _assert_agree(exact.search_many(probes, [ALL] * len(probes)),
                  fast.search_many(probes, [ALL] * len(probes)))


def test_marks_take_effect_immediately(
    population: tuple[list[tuple[int, Templates, EntryMeta]], list[Templates]],
) -> None:
    entries, probes = population
    fast = _built(IndexKind.FAST, entries[:300])
    marked_only = Eligibility(groups=frozenset(), marked_only_groups=frozenset(range(4)))
    before = {i for o in fast.search_many(probes, [ALL] * len(probes)) for i in _hits(o)}
    for entry_id in before:
        fast.set_marked(entry_id, True)
    after = {i for o in fast.search_many(probes, [marked_only] * len(probes)) for i in _hits(o)}
    assert after == before
    for entry_id in before:
        fast.set_marked(entry_id, False)
    assert not any(o.hits for o in fast.search_many(probes, [marked_only] * len(probes)))


@pytest.mark.parametrize("kind", list(IndexKind))
def test_state_round_trip(
    kind: IndexKind,
    population: tuple[list[tuple[int, Templates, EntryMeta]], list[Templates]],
) -> None:
    entries, probes = population
    # Without a source, so that the restored 4-bit vectors themselves are compared.
    gallery = _built(kind, entries[:300], sourced=False)
    gallery.remove(entries[0][0])
    state = gallery.export_state()
    assert entries[0][0] not in state["entry_ids"].tolist()
    restored = Gallery.from_state(CONFIG, state,
                                  fast=FastIndexParams(subvector_dim=8, candidates=64))
    assert len(restored) == len(gallery) == 299
    want = gallery.search_many(probes, [ALL] * len(probes))
    got = restored.search_many(probes, [ALL] * len(probes))
    assert [_hits(o) for o in got] == [_hits(o) for o in want]
    restored.add(*entries[0])  # and it keeps working
    assert entries[0][0] in restored


def test_state_of_other_dimensions_is_refused(
    population: tuple[list[tuple[int, Templates, EntryMeta]], list[Templates]],
) -> None:
    entries, _ = population
    state = _built(IndexKind.FAST, entries[:10]).export_state()
    with pytest.raises(ValueError, match="dimensions"):
        Gallery.from_state(MatcherConfig(finger_dim=32, face_dim=128), state)
    with pytest.raises(ValueError, match="fast"):
        Gallery(CONFIG).load_state(state)


def test_a_template_source_makes_decisions_at_the_threshold_exact(
    population: tuple[list[tuple[int, Templates, EntryMeta]], list[Templates]],
) -> None:
    """With a source, pairs at the threshold are scored exactly: a threshold set to a mate's
    exact score is a hit, the next float above it is not, whatever the 4-bit rounding."""
    entries, probes = population
    exact = _built(IndexKind.EXACT, entries)
    fast = _built(IndexKind.FAST, entries)
    checked = 0
    for probe in probes[:40]:
        best = exact.search(probe, ALL).hits
        if not best or best[0].modality is not Modality.FINGERPRINT:
            continue
        score = best[0].score
        at = fast.search(probe, ALL, finger_threshold=score)
        above = fast.search(probe, ALL, finger_threshold=float(np.nextafter(score, np.inf)))
        assert best[0].entry_id in _hits(at) and _hits(at)[best[0].entry_id] == score
        assert best[0].entry_id not in _hits(above)
        checked += 1
    assert checked >= 10
    assert fast._engine.rechecked > 0  # type: ignore[union-attr]


def test_a_candidate_the_source_no_longer_holds_is_dropped(
    population: tuple[list[tuple[int, Templates, EntryMeta]], list[Templates]],
) -> None:
    entries, probes = population
    exact = _built(IndexKind.EXACT, entries)
    probe = next(p for p in probes if (hits := exact.search(p, ALL).hits)
                 and hits[0].modality is Modality.FINGERPRINT)
    best = exact.search(probe, ALL).hits[0]
    fast = Gallery(CONFIG, index=IndexKind.FAST, source=lambda ids: {})
    fast.add_many(entries)  # the store lost everything since: e.g. erased since indexing
    assert best.entry_id not in _hits(fast.search(probe, ALL, finger_threshold=best.score))
    # Far above the threshold too: no reported score comes from anything but the store.
    assert not fast.search(probe, ALL, finger_threshold=best.score - 0.4).hits


def test_a_top_k_search_without_threshold_stays_within_the_first_candidates(
    population: tuple[list[tuple[int, Templates, EntryMeta]], list[Templates]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The evaluation search asks for the top k whatever the score: every tail then 'reaches'
    the threshold, and k must not grow to the whole gallery (it did, and a 100k gallery ran
    out of memory). Limits above the first candidates still get their k."""
    from matcher._fast import FastEngine

    entries, probes = population
    gallery = _built(IndexKind.FAST, entries)
    asked: list[int] = []
    original = FastEngine._reranked

    def spy(self: FastEngine, *args: object) -> object:
        asked.append(int(args[-1]))  # type: ignore[call-overload]
        return original(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(FastEngine, "_reranked", spy)
    for limit in (5, 100):
        outcomes = gallery.search_many(probes[:8], [ALL] * 8, finger_threshold=-4.0,
                                       face_threshold=-4.0, limit=limit)
        assert all(len(outcome.hits) == limit for outcome in outcomes)
    assert max(asked) <= 100
