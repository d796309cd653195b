"""Pruning the index log never makes a shard replica miss a change.

Over a real database (SQLite, and PostgreSQL when ABIS_TEST_DATABASE_URL is set): a writer
stores, erases and marks datasets; a partition replica writes its snapshot and reports it; the
log is pruned. A replica restarted from its snapshot then answers exactly as a replica loaded
from the store -- whether the pruning stopped at its snapshot (it replays), or went past it
(its report was too old to count: it rebuilds from the store), and a running replica that
finds rows it needs pruned rebuilds itself instead of skipping them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

import matcher
from service.clock import Clock
from service.datasets.sealed import template_source
from service.runtime import make_gallery
from service.settings import Settings
from service.shard.partition import Behind, Partition
from service.store.database import make_engine, make_sessions
from service.store.models import DatasetRow
from service.store.schema import upgrade
from service.transmission.outcome import TransmissionOutcome
from service.writer import log_pruning
from service.writer.batch import BatchProcessor, Transmit
from service.writer.commands import Command, CommandDone, MarkEntry, RemoveEntry
from service.writer.gallery import LocalGallery
from service.writer.models import IndexLogRow
from tests.conftest import BACKENDS, fresh_database
from tests.factories import new_person_seed
from tests.unit.test_batch_processor import CONFIG, MASTER, _job

SETTINGS = Settings(finger_threshold=CONFIG.finger_threshold)
EVERYONE = matcher.Eligibility(frozenset(range(256)))
WEEK = dt.timedelta(days=7)


@dataclass
class World:
    sessions: sessionmaker[Session]
    writer: BatchProcessor
    snapshot: Path
    probes: list[matcher.Templates]

    def replica(self, name: str = "0/1@a", snapshot: Path | None = None) -> Partition:
        return Partition(0, 1, make_gallery(SETTINGS, template_source(self.sessions, MASTER)),
                         self.sessions, MASTER, snapshot=snapshot or self.snapshot,
                         replica=name, report_seconds=0.0)

    def store(self) -> int:
        job = _job("IT", 2, new_person_seed(), 1)
        outcome = self.writer([Transmit(job, None)])[0]
        assert isinstance(outcome, TransmissionOutcome) and outcome.dataset_id is not None
        self.probes.append(job.templates)
        return outcome.dataset_id

    def erase(self, dataset_id: int) -> None:
        def run(session: Session, now: dt.datetime) -> CommandDone:
            session.delete(session.get(DatasetRow, dataset_id))
            return CommandDone(None, (RemoveEntry(dataset_id),))
        assert self.writer([Command(run, None)])[0] is None

    def mark(self, dataset_id: int) -> None:
        def run(session: Session, now: dt.datetime) -> CommandDone:
            row = session.get(DatasetRow, dataset_id)
            assert row is not None
            row.marked = True
            return CommandDone(None, (MarkEntry(dataset_id, True),))
        assert self.writer([Command(run, None)])[0] is None

    def prune(self, keep: int = 1, max_age: dt.timedelta = WEEK) -> log_pruning.Pruning:
        return log_pruning.prune(self.sessions, keep, max_age, dt.datetime.now(dt.UTC))

    def log_rows(self) -> int:
        with self.sessions() as session:
            return int(session.scalar(select(func.count()).select_from(IndexLogRow)) or 0)


@pytest.fixture(params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
          tmp_path: Path) -> Iterator[World]:
    for url in fresh_database(request.param, tmp_path_factory):
        engine = make_engine(url)
        upgrade(engine)
        sessions = make_sessions(engine)
        writer = BatchProcessor(sessions, LocalGallery(matcher.Gallery(CONFIG)), MASTER, None,
                                Clock())
        yield World(sessions, writer, tmp_path / "shard.snapshot", [])
        engine.dispose()


def answers(partition: Partition, probes: list[matcher.Templates]) -> list[dict[int, bool]]:
    """Per probe: the datasets it hits, and whether each is marked."""
    marked = dict(zip(*(array.tolist() for array in partition.gallery.entries()), strict=True))
    outcomes = partition.gallery.search_many(probes, [EVERYONE] * len(probes))
    return [{hit.entry_id: marked[hit.entry_id] for hit in outcome.hits}
            for outcome in outcomes]


def from_the_store(world: World) -> list[dict[int, bool]]:
    """What a replica loaded from the store alone (no snapshot, no log) answers."""
    fresh = world.replica("0/1@reference", snapshot=world.snapshot.with_name("none"))
    fresh.load()
    return answers(fresh, world.probes)


def test_a_replica_restarted_after_pruning_replays_from_its_snapshot_and_misses_nothing(
        world: World) -> None:
    first = [world.store() for _ in range(3)]
    running = world.replica()
    running.load()
    running.save()  # its snapshot: taken at this sequence, and reported
    after_snapshot = running.applied
    later = [world.store() for _ in range(3)]
    world.erase(first[0])
    world.erase(later[0])
    world.mark(first[1])
    running.catch_up(None)  # it follows the log (pushes in the service)
    running.follow_once()  # reports again: its snapshot still pins the log
    pruning = world.prune()
    assert pruning.bound == "replicas" and pruning.through == after_snapshot
    assert pruning.deleted == after_snapshot  # one log row per stored dataset so far
    restarted = world.replica()
    restarted.load()
    assert restarted.snapshot_seq == after_snapshot and not restarted.rebuilds
    assert answers(restarted, world.probes) == from_the_store(world)
    assert answers(restarted, world.probes) == answers(running, world.probes)
    reported = answers(restarted, world.probes)
    assert all(first[0] not in hits and later[0] not in hits for hits in reported)
    assert reported[1] == {first[1]: True}


def test_a_snapshot_older_than_the_pruned_log_is_rebuilt_from_the_store(world: World) -> None:
    first = [world.store() for _ in range(2)]
    old = world.replica()
    old.load()
    old.save()
    for _ in range(3):
        world.store()
    world.erase(first[0])
    world.mark(first[1])
    # Its report is too old to count: the floor alone bounds the pruning, past its snapshot.
    pruning = world.prune(keep=1, max_age=dt.timedelta(seconds=-1))
    assert pruning.bound == "floor" and pruning.through > old.applied
    assert world.log_rows() == 1
    restarted = world.replica()
    restarted.load()
    assert restarted.snapshot_seq is None  # the snapshot was refused: rebuilt from the store
    assert answers(restarted, world.probes) == from_the_store(world)
    assert all(first[0] not in hits for hits in answers(restarted, world.probes))


def test_a_running_replica_behind_the_pruned_log_refuses_then_rebuilds(world: World) -> None:
    world.store()
    lagging = world.replica()
    lagging.load()
    missed = [world.store() for _ in range(3)]  # never pushed to it
    world.erase(missed[0])
    world.prune(keep=1, max_age=dt.timedelta(seconds=-1))
    committed = world.writer.committed_seq
    with pytest.raises(Behind):
        lagging.ensure(committed)  # never an answer that misses the pruned rows
    lagging.follow_once()  # the follower rebuilds it from the store
    assert lagging.rebuilds == 1 and lagging.applied == committed
    lagging.ensure(committed)
    assert answers(lagging, world.probes) == from_the_store(world)
    assert any(missed[1] in hits for hits in answers(lagging, world.probes))


def test_the_horizon_is_the_lowest_recent_report_under_the_retention_floor(
        world: World) -> None:
    for _ in range(6):
        world.store()
    now = dt.datetime.now(dt.UTC)
    with world.sessions.begin() as session:
        log_pruning.report(session, "0/1@a", 0, 1, 4, now)
        log_pruning.report(session, "0/1@b", 0, 1, 2, now)
        log_pruning.report(session, "0/1@gone", 0, 1, 1, now - 2 * WEEK)
    with world.sessions() as session:
        assert log_pruning.horizon(session, 1, WEEK, now) == (2, "replicas")
        assert log_pruning.horizon(session, 5, WEEK, now) == (1, "floor")
        assert log_pruning.horizon(session, 1, 3 * WEEK, now) == (1, "replicas")
    pruning = world.prune(keep=5)
    assert (pruning.before, pruning.through, pruning.deleted) == (0, 1, 1)
    assert world.prune(keep=5).deleted == 0  # nothing more below the floor
    assert world.log_rows() == 5
    with pytest.raises(ValueError):
        world.prune(keep=0)  # the newest row is the committed sequence: it always stays
