"""The sweeper erases what retention no longer allows, by moving the clock, never sleeping."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import Future
from pathlib import Path

import matcher
from service.clock import Clock
from service.lifecycle.retention import Sweeper, sweep_command
from service.store.database import make_engine, make_sessions
from service.store.schema import upgrade
from service.transmission.outcome import TransmissionOutcome
from service.writer.batch import BatchProcessor, Command, Transmit, WorkResult
from service.writer.gallery import LocalGallery
from tests.factories import new_person_seed
from tests.unit.test_batch_processor import CONFIG, MASTER, _job


def test_expired_datasets_leave_store_and_index_and_the_rest_stays(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db'}")
    upgrade(engine)
    gallery = matcher.Gallery(CONFIG)
    clock = Clock()
    processor = BatchProcessor(make_sessions(engine), LocalGallery(gallery), MASTER, None, clock)
    temporary = _job("PL", 0, new_person_seed(), 1)  # kept 1 year
    applicant = _job("PL", 1, new_person_seed(), 1)  # kept 10 years
    stored = processor([Transmit(temporary, None), Transmit(applicant, None)])
    assert all(isinstance(outcome, TransmissionOutcome) for outcome in stored)
    assert len(gallery) == 2

    def submit(command: Command) -> Future[WorkResult]:
        future: Future[WorkResult] = Future()
        result = processor([command])[0]
        assert not isinstance(result, BaseException)
        future.set_result(result)
        return future

    today = dt.datetime.now(dt.UTC).date()
    last_day = today.replace(year=today.year + 1) if (today.month, today.day) != (2, 29) \
        else today.replace(year=today.year + 1, day=28)
    sweeper = Sweeper(submit, lambda: last_day, interval=3600)
    assert sweeper.sweep_once() == 0  # the last day of retention is still kept
    clock.offset = last_day - today + dt.timedelta(days=1)
    sweeper = Sweeper(submit, lambda: clock.now().date(), interval=3600)
    assert sweeper.sweep_once() == 1
    assert len(gallery) == 1
    remaining = processor([Transmit(_job("CZ", 1, new_person_seed(), 1), None)])
    assert isinstance(remaining[0], TransmissionOutcome)
    assert processor([sweep_command(clock.now().date())])[0] == 0
