"""The single writer's batch: transmissions of one batch see each other exactly as if they had
been sent one after another."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

import matcher
from schemas.codes import Role
from schemas.transmission import TransmissionRequest
from service.auth import Caller
from service.clock import Clock
from service.crypto import MasterKey
from service.datasets.sealed import template_source
from service.errors import DuplicateReferenceNumber
from service.runtime import matcher_config
from service.settings import Settings
from service.store.database import make_engine, make_sessions
from service.store.schema import upgrade
from service.transmission.outcome import TransmissionOutcome
from service.transmission.prepare import PreparedTransmission, prepare
from service.writer.batch import BatchProcessor, Transmit
from service.writer.gallery import LocalGallery
from tests.factories import new_person_seed, transmission

CONFIG = matcher_config(Settings())
MASTER = MasterKey(os.urandom(32))


def _job(state: str, category: int, person: int, capture: int, **extra: object
         ) -> PreparedTransmission:
    body = TransmissionRequest.model_validate(
        transmission(state, category, person=person, capture=capture, **extra)  # type: ignore[arg-type]
    )
    return prepare(body, Caller(f"k{state}", state, state, Role.OFFICER),
                   now=dt.datetime.now(dt.UTC), skew=dt.timedelta(minutes=5), config=CONFIG,
                   master=MASTER)


def _gallery() -> LocalGallery:
    return LocalGallery(matcher.Gallery(CONFIG))


@pytest.fixture
def processor(tmp_path: Path) -> BatchProcessor:
    engine = make_engine(f"sqlite:///{tmp_path / 'db'}")
    upgrade(engine)
    return BatchProcessor(make_sessions(engine), _gallery(), MASTER, None, Clock())


def test_one_batch_links_the_same_person_and_refuses_a_duplicate_inside_it(
    processor: BatchProcessor,
) -> None:
    person, stranger = new_person_seed(), new_person_seed()
    first = _job("IT", 2, person, 1)
    jobs = [
        first,
        _job("DE", 1, person, 2),
        _job("FR", 3, stranger, 1),
        _job("IT", 2, person, 3, reference_number=first.reference_number),  # duplicate
        _job("NL", 7, person, 4),  # search-only: compares with marked applicants only
        _job("AT", 1, person, 5),
    ]
    results = processor([Transmit(job, None) for job in jobs])
    outcomes = [r for r in results if isinstance(r, TransmissionOutcome)]
    assert isinstance(results[3], DuplicateReferenceNumber)
    it, de, fr, nl, at = outcomes
    assert it.matches == () and fr.matches == () and nl.matches == ()
    assert [m.reference_number for m in de.matches] == [first.reference_number]
    assert {m.member_state for m in at.matches} == {"IT", "DE"}
    assert it.sequence_id == de.sequence_id == at.sequence_id != fr.sequence_id
    assert nl.dataset_id is None and nl.sequence_id is None
    # The batch's datasets joined the index: a later transmission finds all three.
    later = processor([Transmit(_job("BE", 1, person, 6), None)])[0]
    assert isinstance(later, TransmissionOutcome)
    assert {m.member_state for m in later.matches} == {"IT", "DE", "AT"}


def test_a_batch_equals_the_same_transmissions_one_by_one(tmp_path: Path) -> None:
    people = [new_person_seed() for _ in range(3)]
    jobs = [_job(state, 1, people[index % 3], index)
            for index, state in enumerate(["IT", "DE", "FR", "ES", "PT", "GR", "AT"])]

    def run(batched: bool, folder: str) -> list[list[str]]:
        engine = make_engine(f"sqlite:///{tmp_path / folder}")
        upgrade(engine)
        worker = BatchProcessor(make_sessions(engine), _gallery(), MASTER, None,
                                Clock())
        groups = [jobs] if batched else [[job] for job in jobs]
        outcomes = [r for group in groups for r in worker([Transmit(j, None) for j in group])]
        return [sorted(m.reference_number for m in o.matches)  # type: ignore[union-attr]
                for o in outcomes]

    assert run(True, "a") == run(False, "b")


def test_the_store_gives_the_fast_index_the_stored_templates_back(tmp_path: Path) -> None:
    """The fast index re-checks near-threshold candidates with `template_source`: it must give
    back, decrypted, exactly the templates stored under each dataset id, and nothing for an id
    the store does not hold."""
    engine = make_engine(f"sqlite:///{tmp_path / 'db'}")
    upgrade(engine)
    sessions = make_sessions(engine)
    processor = BatchProcessor(sessions, _gallery(), MASTER, None, Clock())
    jobs = [_job("IT", 2, new_person_seed(), 1), _job("DE", 1, new_person_seed(), 1)]
    stored = [r for r in processor([Transmit(job, None) for job in jobs])
              if isinstance(r, TransmissionOutcome)]
    ids = [outcome.dataset_id for outcome in stored]
    assert None not in ids
    found = template_source(sessions, MASTER)([*ids, 10**9])  # type: ignore[list-item]
    assert sorted(found) == sorted(ids)  # type: ignore[type-var]
    for job, dataset_id in zip(jobs, ids, strict=True):
        again = found[dataset_id]  # type: ignore[index]
        assert sorted(again.fingers) == sorted(job.templates.fingers)
        for position, vector in job.templates.fingers.items():
            assert again.fingers[position].tobytes() == vector.tobytes()
        assert (again.face is None) == (job.templates.face is None)
