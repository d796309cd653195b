"""The running service's normalisation cohort (ABIS_SCORE_NORMALISATION=cohort): drawn
reproducibly from the store, and an erased member leaves it, replaced, before the erasure is
acknowledged, through the writer's real batch processor and the real erasure command."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

import matcher
from schemas.codes import Role
from schemas.lifecycle import ErasureReason
from service.auth import Caller
from service.clock import Clock
from service.gallery.store_sample import StoreSample
from service.lifecycle.changes import erase
from service.scores.units import require_threshold_units
from service.settings import Settings
from service.store.database import make_engine, make_sessions
from service.store.schema import upgrade
from service.transmission.outcome import TransmissionOutcome
from service.writer.batch import BatchProcessor, Transmit
from service.writer.cohort import CohortKeeper, ranked
from service.writer.gallery import LocalGallery
from tests.factories import new_person_seed
from tests.unit.test_batch_processor import CONFIG, MASTER, _job

SIZE = 20
CONFIG_Z = dataclasses.replace(CONFIG, finger_threshold=7.0)  # cohort mode: a z threshold


def test_the_draw_depends_on_the_ids_and_the_seed_only() -> None:
    ids = np.arange(1, 5_001, dtype=np.int64)
    first = ranked(ids, 7, 50)
    assert first.size == 50 and np.unique(first).size == 50
    assert np.array_equal(first, ranked(np.random.default_rng(1).permutation(ids), 7, 50))
    assert not np.array_equal(first, ranked(ids, 8, 50))
    # Leaving out one member: the others stay, the next-ranked one takes its place.
    without = ranked(ids[ids != first[0]], 7, 50)
    assert set(without) == set(first[1:]) | {ranked(ids, 7, 51)[-1]}


@pytest.fixture
def keeper_and_processor(tmp_path: Path) -> tuple[CohortKeeper, BatchProcessor, dict[int, str]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'db'}")
    upgrade(engine)
    sessions = make_sessions(engine)
    store = StoreSample(sessions, MASTER)
    keeper = CohortKeeper(CONFIG_Z, SIZE, 3, store.ids, store.templates)
    processor = BatchProcessor(sessions, LocalGallery(matcher.Gallery(CONFIG_Z), keeper), MASTER,
                               None, Clock())
    references: dict[int, str] = {}
    for lo in range(0, 32, 8):  # four batches: the young gallery's cohort fills as it grows
        jobs = [_job("PL", 1, new_person_seed(), 1) for _ in range(8)]
        for job, outcome in zip(jobs, processor([Transmit(job, None) for job in jobs]),
                                strict=True):
            assert isinstance(outcome, TransmissionOutcome) and outcome.dataset_id is not None
            references[outcome.dataset_id] = job.reference_number
        assert len(keeper.members) == min(SIZE, lo + 8)
    return keeper, processor, references


def _erase(processor: BatchProcessor, reference_number: str) -> None:
    caller = Caller("kPL", "PL", "PL", Role.OFFICER)
    result = processor([erase(reference_number, ErasureReason.CITIZENSHIP, caller, None)])[0]
    assert not isinstance(result, BaseException), result


def _statistics(cohort: matcher.Cohort, probe: matcher.Templates) -> tuple[float, float]:
    means, sds = cohort.statistics([probe])
    return float(means[0]), float(sds[0])


def test_an_erased_member_leaves_the_cohort_and_the_next_ranked_takes_its_place(
    keeper_and_processor: tuple[CohortKeeper, BatchProcessor, dict[int, str]],
) -> None:
    keeper, processor, references = keeper_and_processor
    ids = np.array(sorted(references), dtype=np.int64)
    # Drawn while short (the third batch filled it), not redrawn by the fourth batch's adds.
    assert keeper.members == frozenset(ranked(ids[:24], 3, SIZE).tolist())
    leaving = int(ranked(ids[:24], 3, 1)[0])
    store = StoreSample(processor._sessions, MASTER)
    probe = store.templates([leaving])[leaving]  # the erased person's own templates
    _erase(processor, references[leaving])
    remaining = ids[ids != leaving]
    assert leaving not in keeper.members
    assert keeper.members == frozenset(ranked(remaining, 3, SIZE).tolist())  # redrawn, full
    # The statistics are those of the new members' templates: nothing of the erased person.
    expected = matcher.Cohort(CONFIG_Z, list(store.templates(sorted(keeper.members)).values()))
    assert _statistics(keeper.cohort, probe) == pytest.approx(_statistics(expected, probe))


def test_an_erased_member_leaves_even_when_the_store_cannot_be_read(
    keeper_and_processor: tuple[CohortKeeper, BatchProcessor, dict[int, str]],
) -> None:
    keeper, processor, references = keeper_and_processor
    member = sorted(keeper.members)[0]
    working = keeper._read_ids

    def broken() -> np.ndarray:
        raise OSError("the store is unreachable")

    keeper._read_ids = broken  # type: ignore[assignment]
    _erase(processor, references[member])
    assert member not in keeper.members and len(keeper.members) == SIZE - 1
    assert len(keeper.cohort) == SIZE - 1
    keeper._read_ids = working  # type: ignore[method-assign]
    _erase(processor, references[sorted(set(references) - keeper.members)[0]])  # not a member
    assert len(keeper.members) == SIZE  # the failed redraw was retried at the next change


def test_a_batch_judges_its_own_datasets_by_the_same_cohort_rule(
    keeper_and_processor: tuple[CohortKeeper, BatchProcessor, dict[int, str]],
) -> None:
    _, processor, _ = keeper_and_processor
    person = new_person_seed()
    first, again = _job("IT", 1, person, 1), _job("DE", 1, person, 2)
    stored, matched = processor([Transmit(first, None), Transmit(again, None)])
    assert isinstance(stored, TransmissionOutcome) and isinstance(matched, TransmissionOutcome)
    assert [m.dataset_id for m in matched.matches] == [stored.dataset_id]
    assert matched.matches[0].score >= CONFIG_Z.finger_threshold  # decided and scored in z


def test_a_threshold_of_the_other_unit_is_refused() -> None:
    from service.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="raw fused score"):
        require_threshold_units(Settings(score_normalisation="cohort"))
    with pytest.raises(ConfigurationError, match="ABIS_SCORE_NORMALISATION=cohort"):
        require_threshold_units(Settings(finger_threshold=7.0))
    require_threshold_units(Settings(score_normalisation="cohort", finger_threshold=7.0))
    require_threshold_units(Settings())
