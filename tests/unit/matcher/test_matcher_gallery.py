"""Gallery behaviour: eligibility, lifecycle of entries, search modes."""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest

from matcher import (
    DuplicateEntryError,
    Eligibility,
    EntryMeta,
    Gallery,
    Hit,
    Modality,
    TemplateError,
    TemplateProblem,
    Templates,
    UnknownEntryError,
    compare,
    prepare_batch,
)
from tests.unit.matcher.matcher_factories import (
    ALL_GROUPS,
    CONFIG,
    DIM,
    at_cosine,
    random_templates,
    templates,
    unit,
)

PROBE = templates({1: unit(0), 2: unit(0)})
MATE = templates({1: at_cosine(0.9), 2: at_cosine(0.9)})  # fused score 1.8 / sqrt(2)
META = EntryMeta(group=0, member_state=0)


def ids(
    gallery: Gallery, probe: Templates = PROBE, eligible: Eligibility = ALL_GROUPS
) -> list[int]:
    return [hit.entry_id for hit in gallery.search(probe, eligible).hits]


@pytest.fixture
def gallery() -> Gallery:
    return Gallery(CONFIG)


def test_hit_carries_fused_score_and_modality(gallery: Gallery) -> None:
    gallery.add(5, MATE, META)
    gallery.add(6, templates({1: at_cosine(0.1), 2: at_cosine(0.1)}), META)
    (hit,) = gallery.search(PROBE, ALL_GROUPS).hits
    assert hit == Hit(5, pytest.approx(1.8 / math.sqrt(2), abs=1e-5), Modality.FINGERPRINT, 2)  # type: ignore[arg-type]


def test_hits_sorted_by_score_then_entry_id(gallery: Gallery) -> None:
    for entry_id, cos in [(30, 0.7), (10, 0.9), (20, 0.7), (40, 0.8)]:
        gallery.add(entry_id, templates({1: at_cosine(cos)}), META)
    assert ids(gallery, templates({1: unit(0)})) == [10, 40, 20, 30]


def test_threshold_applies_per_modality(gallery: Gallery) -> None:
    gallery.add(1, templates({1: at_cosine(0.45)}), META)
    gallery.add(2, templates({5: unit(0)}, face=at_cosine(0.4)), META)
    probe = templates({1: unit(0)}, face=unit(0))
    assert ids(gallery, probe) == [2]  # face 0.4 >= 0.35, finger 0.45 < 0.5
    outcome = gallery.search(probe, ALL_GROUPS, finger_threshold=0.449, face_threshold=0.41)
    assert [(h.entry_id, h.modality) for h in outcome.hits] == [(1, Modality.FINGERPRINT)]


def test_face_searched_only_for_entries_without_common_usable_finger(gallery: Gallery) -> None:
    face = at_cosine(0.99)
    gallery.add(1, templates({1: at_cosine(0.0)}, face=face), META)  # finger in common: no face
    gallery.add(2, templates({1: unit(0, 0.1)}, face=face), META)  # its finger is poor
    gallery.add(3, templates({9: unit(0)}, face=face), META)  # no position in common
    gallery.add(4, templates({}, face=face), META)
    hits = gallery.search(templates({1: unit(0)}, face=unit(0)), ALL_GROUPS).hits
    assert [(h.entry_id, h.modality, h.fingers_compared) for h in hits] == [
        (2, Modality.FACE, 0), (3, Modality.FACE, 0), (4, Modality.FACE, 0),
    ]


def test_poor_probe_face_is_not_searched(gallery: Gallery) -> None:
    gallery.add(1, templates({}, face=unit(0)), META)
    assert ids(gallery, templates({}, face=unit(0, 0.2))) == []
    assert ids(gallery, templates({}, face=unit(0, 0.3))) == [1]


def test_eligibility_by_group(gallery: Gallery) -> None:
    for group in (0, 1, 2):
        gallery.add(group, MATE, EntryMeta(group=group, member_state=9))
    assert ids(gallery, eligible=Eligibility(groups=frozenset({0, 2}))) == [0, 2]
    assert ids(gallery, eligible=Eligibility(groups=frozenset())) == []


def test_marked_only_groups(gallery: Gallery) -> None:
    gallery.add(1, MATE, EntryMeta(group=3, member_state=0, marked=True))
    gallery.add(2, MATE, EntryMeta(group=3, member_state=0, marked=False))
    gallery.add(3, MATE, EntryMeta(group=4, member_state=0, marked=True))
    eligible = Eligibility(groups=frozenset({4}), marked_only_groups=frozenset({3}))
    assert ids(gallery, eligible=eligible) == [1, 3]
    assert ids(gallery, eligible=Eligibility(groups=frozenset(), marked_only_groups={4})) == [3]  # type: ignore[arg-type]


def test_excluded_member_state(gallery: Gallery) -> None:
    gallery.add(1, MATE, EntryMeta(group=0, member_state=7))
    gallery.add(2, MATE, EntryMeta(group=0, member_state=8, marked=True))
    gallery.add(3, MATE, EntryMeta(group=1, member_state=7, marked=True))
    eligible = Eligibility(
        groups=frozenset({0}), marked_only_groups=frozenset({1}), exclude_member_state=7
    )
    assert ids(gallery, eligible=eligible) == [2]


def test_set_marked_takes_effect(gallery: Gallery) -> None:
    gallery.add(1, MATE, EntryMeta(group=2, member_state=0))
    marked_only = Eligibility(groups=frozenset(), marked_only_groups=frozenset({2}))
    assert ids(gallery, eligible=marked_only) == []
    gallery.set_marked(1, True)
    assert ids(gallery, eligible=marked_only) == [1]
    gallery.set_marked(1, False)
    assert ids(gallery, eligible=marked_only) == []
    with pytest.raises(UnknownEntryError):
        gallery.set_marked(99, True)


def test_remove_takes_effect_immediately(gallery: Gallery) -> None:
    for entry_id in range(8):
        gallery.add(entry_id, MATE, META)
    gallery.remove(3)
    assert 3 not in gallery and len(gallery) == 7
    assert ids(gallery) == [0, 1, 2, 4, 5, 6, 7]
    with pytest.raises(UnknownEntryError) as caught:
        gallery.remove(3)
    assert caught.value.entry_id == 3


def test_removed_id_can_be_added_again(gallery: Gallery) -> None:
    gallery.add(1, MATE, META)
    gallery.remove(1)
    gallery.add(1, templates({1: at_cosine(0.1)}, face=unit(0)), META)
    assert ids(gallery) == []
    assert ids(gallery, templates({}, face=unit(0))) == [1]


def test_results_survive_compaction(gallery: Gallery) -> None:
    rng = np.random.default_rng(3)
    entries = {i: random_templates(rng, (1, 2, 3), face=i % 2 == 0) for i in range(40)}
    gallery.add_many((i, t, EntryMeta(group=i % 3, member_state=i % 4)) for i, t in entries.items())
    probes = [entries[i] for i in range(0, 40, 3)] + [templates({}, face=entries[0].face)]
    eligible = Eligibility(groups=frozenset({0, 1}), exclude_member_state=1)
    removed = set(range(0, 40, 2))
    fresh = Gallery(CONFIG)
    fresh.add_many(
        (i, t, EntryMeta(group=i % 3, member_state=i % 4))
        for i, t in entries.items() if i not in removed
    )
    for entry_id in sorted(removed):  # 20 of 40: compaction runs on the way
        gallery.remove(entry_id)
    assert gallery._dead < len(removed)  # white-box: compaction did happen
    for probe in probes:
        assert gallery.search(probe, eligible) == fresh.search(probe, eligible)


def test_duplicate_add_is_refused(gallery: Gallery) -> None:
    gallery.add(1, MATE, META)
    with pytest.raises(DuplicateEntryError) as caught:
        gallery.add(1, PROBE, META)
    assert caught.value.entry_id == 1
    assert ids(gallery) == [1] and len(gallery) == 1


def test_invalid_templates_are_refused_and_nothing_is_added(gallery: Gallery) -> None:
    with pytest.raises(TemplateError):
        gallery.add(1, templates({11: unit(0)}), META)
    assert 1 not in gallery
    with pytest.raises(TemplateError):
        gallery.search(templates({1: np.ones(DIM + 1, np.float32)}), ALL_GROUPS)


def test_add_many_equals_repeated_add() -> None:
    rng = np.random.default_rng(1)
    entries = [
        (i, random_templates(rng, tuple(rng.choice(10, 3, replace=False) + 1), face=i % 3 == 0),
         EntryMeta(group=i % 2, member_state=i % 5, marked=i % 4 == 0))
        for i in range(60)
    ]
    one_by_one, bulk = Gallery(CONFIG), Gallery(CONFIG)
    for entry in entries:
        one_by_one.add(*entry)
    assert bulk.add_many(iter(entries)) == 60
    eligible = Eligibility(groups=frozenset({0}), marked_only_groups=frozenset({1}))
    for _, probe, _ in entries[::5]:
        assert one_by_one.search(probe, eligible) == bulk.search(probe, eligible)


def test_add_many_stops_at_the_first_bad_entry_like_repeated_add(gallery: Gallery) -> None:
    entries = [(1, MATE, META), (2, MATE, META), (1, MATE, META), (3, MATE, META)]
    with pytest.raises(DuplicateEntryError):
        gallery.add_many(entries)
    assert sorted(ids(gallery)) == [1, 2]
    with pytest.raises(TemplateError):
        gallery.add_many([(4, MATE, META), (5, templates({0: unit(0)}), META), (6, MATE, META)])
    assert sorted(ids(gallery)) == [1, 2, 4]
    nan_face = templates({1: unit(0)}, face=np.full(DIM, np.nan, np.float32))
    with pytest.raises(TemplateError) as caught:  # a bad value before a bad position wins
        gallery.add_many([(7, MATE, META), (8, nan_face, META), (9, templates({0: unit(0)}), META)])
    assert caught.value.problem is TemplateProblem.NON_FINITE and caught.value.position is None
    assert sorted(ids(gallery)) == [1, 2, 4, 7] and 8 not in gallery


def test_search_many_equals_search() -> None:
    rng = np.random.default_rng(2)
    gallery = Gallery(CONFIG)
    gallery.add_many(
        (i, random_templates(rng, (1, 2, 3, 4) if i % 2 else (3, 4, 5), face=i % 3 == 0),
         EntryMeta(group=i % 3, member_state=i % 2))
        for i in range(50)
    )
    probes = [random_templates(rng, (1, 2, 3, 4), face=True) for _ in range(6)]
    probes += [random_templates(rng, (5, 6)) for _ in range(3)]
    probes += [random_templates(rng, (), face=True) for _ in range(3)]
    probes += [templates({})]
    eligibles = [
        Eligibility(groups=frozenset({0, 1}) if i % 2 else frozenset({2}), exclude_member_state=1)
        for i in range(len(probes))
    ]
    for kwargs in ({}, {"finger_threshold": -1.0, "face_threshold": -1.0, "limit": 4}):
        batch = gallery.search_many(probes, eligibles, **kwargs)  # type: ignore[arg-type]
        single = [gallery.search(p, e, **kwargs) for p, e in zip(probes, eligibles, strict=True)]  # type: ignore[arg-type]
        assert batch == single
    assert any(outcome.hits for outcome in batch)
    with pytest.raises(ValueError):
        gallery.search_many(probes, eligibles[:-1])


def test_a_batch_prepared_once_searches_and_adds_as_its_templates_do() -> None:
    # The writer prepares a batch's templates once and takes parts of it for the search, the
    # batch's own search and the add: each part must act exactly as its templates would.
    rng = np.random.default_rng(4)
    batch = [random_templates(rng, (1, 2, 3) if i % 3 else (), face=i % 2 == 0)
             for i in range(12)]
    batch[5] = templates({4: unit(0, norm=0.1)}, face=unit(1))  # finger below min_quality
    prepared = prepare_batch(batch, CONFIG)
    stored, searching = [0, 2, 3, 5, 8, 11], [1, 2, 5, 6, 9, 10, 11]
    metas = [EntryMeta(group=i % 2, member_state=i % 3) for i in stored]
    by_templates, by_prepared = Gallery(CONFIG), Gallery(CONFIG)
    by_templates.add_many((i, batch[i], meta) for i, meta in zip(stored, metas, strict=True))
    by_prepared.add_prepared(stored, prepared.take(stored), metas)
    probes = [batch[i] for i in searching] + batch[:4]
    eligibles = [Eligibility(groups=frozenset({0, 1}), exclude_member_state=i % 3)
                 for i in range(len(probes))]
    expected = by_templates.search_many(probes, eligibles, finger_threshold=-1.0,
                                        face_threshold=-1.0)
    part = prepare_batch(probes, CONFIG)
    assert by_prepared.search_many(probes, eligibles, finger_threshold=-1.0,
                                   face_threshold=-1.0, prepared=part) == expected
    assert sum(len(outcome.hits) for outcome in expected) > len(probes)
    taken = prepared.take(searching)
    assert np.array_equal(taken.fingers, part.fingers[:len(searching)])
    assert np.array_equal(taken.faces, part.faces[part.face_owners < len(searching)])
    with pytest.raises(ValueError, match="one item per probe"):
        by_prepared.search_many(probes[:2], eligibles[:2], prepared=part)
    with pytest.raises(ValueError, match="ascending"):
        prepared.take([3, 1])
    with pytest.raises(DuplicateEntryError):  # all or none
        by_prepared.add_prepared([20, 0], prepared.take([1, 4]), metas[:2])
    assert 20 not in by_prepared and len(by_prepared) == len(stored)


def test_top_k_with_negative_threshold(gallery: Gallery) -> None:
    cosines = [0.9, -0.8, 0.1, 0.0, -0.2, 0.5]
    for entry_id, cos in enumerate(cosines):
        gallery.add(entry_id, templates({1: at_cosine(cos), 2: at_cosine(cos)}), META)
    gallery.add(10, templates({1: at_cosine(-0.5)}), META)  # one finger: score -0.5
    gallery.add(11, templates({7: unit(0)}), META)  # not comparable: never a hit
    outcome = gallery.search(PROBE, ALL_GROUPS, finger_threshold=-1.0, limit=4)
    assert [h.entry_id for h in outcome.hits] == [0, 5, 2, 3]
    assert [h.score for h in outcome.hits] == pytest.approx(
        [0.9 * math.sqrt(2), 0.5 * math.sqrt(2), 0.1 * math.sqrt(2), 0.0], abs=1e-5
    )
    everything = gallery.search(PROBE, ALL_GROUPS, finger_threshold=-10.0)
    assert [h.entry_id for h in everything.hits] == [0, 5, 2, 3, 4, 10, 1]
    assert [h.fingers_compared for h in everything.hits] == [2, 2, 2, 2, 2, 1, 2]
    limited = gallery.search(PROBE, ALL_GROUPS, finger_threshold=0.0, limit=10)
    assert [h.entry_id for h in limited.hits] == [0, 5, 2, 3]
    with pytest.raises(ValueError):
        gallery.search(PROBE, ALL_GROUPS, limit=0)
    with pytest.raises(ValueError):
        gallery.search(PROBE, ALL_GROUPS, finger_threshold=float("nan"))


def test_limit_ranks_by_fused_score_not_raw_inner_product(gallery: Gallery) -> None:
    # Raw sums: 1 finger at 0.95 -> 0.95; 4 fingers at 0.4 -> 1.6 but score 0.8.
    probe = templates({p: unit(0) for p in (1, 2, 3, 4)})
    gallery.add(1, templates({1: at_cosine(0.95)}), META)
    gallery.add(2, templates({p: at_cosine(0.4) for p in (1, 2, 3, 4)}), META)
    (best,) = gallery.search(probe, ALL_GROUPS, limit=1).hits
    assert best.entry_id == 1


def test_membership(gallery: Gallery) -> None:
    gallery.add(1, MATE, META)
    assert 1 in gallery and 2 not in gallery and [1] not in gallery
    assert len(gallery) == 1


def test_meta_and_eligibility_reject_out_of_range_values() -> None:
    with pytest.raises(ValueError):
        EntryMeta(group=256, member_state=0)
    with pytest.raises(ValueError):
        EntryMeta(group=0, member_state=-1)
    with pytest.raises(ValueError):
        Eligibility(groups=frozenset({300}))


def test_concurrent_searches_and_writes() -> None:
    rng = np.random.default_rng(5)
    gallery = Gallery(CONFIG)
    entries = [random_templates(rng, (1, 2)) for _ in range(200)]
    gallery.add_many((i, t, META) for i, t in enumerate(entries[:100]))
    errors: list[BaseException] = []

    def search() -> None:
        try:
            for probe in entries[:100:5]:
                assert gallery.search(probe, ALL_GROUPS).hits
        except BaseException as exc:  # noqa: BLE001 - reported to the main thread
            errors.append(exc)

    readers = [threading.Thread(target=search) for _ in range(3)]
    for thread in readers:
        thread.start()
    for i in range(100, 200):  # entries 0..99 stay, so every search still finds its mate
        gallery.add(i, entries[i], META)
        if i % 2:
            gallery.remove(i)
    for thread in readers:
        thread.join()
    assert not errors
    assert len(gallery) == 150


@pytest.mark.parametrize("chunk_rows", [1, 7])
def test_exact_search_does_not_depend_on_chunking(
    monkeypatch: pytest.MonkeyPatch, chunk_rows: int
) -> None:
    """The dense exact search reads the gallery in chunks of rows; results (thresholded and
    top-k, faces and fingers) must not depend on where the chunks end."""
    from matcher import _dense

    rng = np.random.default_rng(5)
    gallery = Gallery(CONFIG)
    gallery.add_many(
        (i, random_templates(rng, (1, 2, 3) if i % 3 else (4, 5), face=i % 2 == 0),
         EntryMeta(group=i % 3, member_state=i % 4))
        for i in range(60)
    )
    probes = [random_templates(rng, (1, 2, 3, 4), face=True) for _ in range(4)]
    probes += [random_templates(rng, (), face=True) for _ in range(2)]
    probes += [random_templates(rng, (6,), face=True)]
    eligibles = [Eligibility(groups=frozenset({0, 1, 2}), exclude_member_state=i % 4)
                 for i in range(len(probes))]
    settings = ({"finger_threshold": 0.0, "face_threshold": 0.0},
                {"finger_threshold": -1.0, "face_threshold": -1.0, "limit": 5})
    whole = [gallery.search_many(probes, eligibles, **kw) for kw in settings]  # type: ignore[arg-type]
    monkeypatch.setattr(_dense, "_CHUNK_ROWS", chunk_rows)
    chunked = [gallery.search_many(probes, eligibles, **kw) for kw in settings]  # type: ignore[arg-type]
    assert chunked == whole
    assert all(len(outcome.hits) == 5 for outcome in whole[1])
    assert any(hit.modality is Modality.FACE for outcome in whole[0] for hit in outcome.hits)


def test_templates_of_gives_back_the_normalised_templates_held() -> None:
    rng = np.random.default_rng(9)
    gallery = Gallery(CONFIG)
    enrolled = {i: random_templates(rng, (1, 4, 7) if i % 2 else (2,), face=i % 3 == 0)
                for i in range(12)}
    gallery.add_many((i, t, EntryMeta(group=0, member_state=0)) for i, t in enrolled.items())
    gallery.remove(5)
    held = gallery.templates_of([3, 5, 6, 99])
    assert sorted(held) == [3, 6]
    for entry_id, given in held.items():
        original = enrolled[entry_id]
        assert sorted(given.fingers) == sorted(original.fingers)
        assert (given.face is None) == (original.face is None)
        same = compare(given, original, CONFIG)
        assert same is not None
        assert same.score == pytest.approx(math.sqrt(len(original.fingers)), abs=1e-6)
    with pytest.raises(TypeError):
        Gallery(CONFIG, index="fast").templates_of([1])
