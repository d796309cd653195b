"""A shard server in this process over a real database: it loads its partition, refuses a
search from behind the committed sequence until it has caught up from the log, refuses a
superseded writer, and a standby writer's epoch fences the old one in the database too."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

import matcher
from service.clock import Clock
from service.datasets.sealed import template_source
from service.errors import ConfigurationError, WriterFenced
from service.runtime import make_gallery
from service.settings import Settings
from service.shard import codec
from service.shard.partition import Partition
from service.shard.protocol import shard_pb2 as pb
from service.shard.server import SERVICE, serve
from service.store.database import make_engine, make_sessions
from service.store.lease import acquire_writer_lease
from service.store.models import DatasetRow
from service.store.schema import upgrade
from service.transmission.outcome import TransmissionOutcome
from service.writer.batch import BatchProcessor, Transmit
from service.writer.gallery import LocalGallery
from tests.factories import new_person_seed
from tests.service_process import free_port
from tests.unit.test_batch_processor import CONFIG, MASTER, _job

SETTINGS = Settings(finger_threshold=CONFIG.finger_threshold)


@dataclass
class Served:
    sessions: sessionmaker[Session]
    writer: BatchProcessor
    partition: Partition
    address: str
    stop: threading.Event
    thread: threading.Thread | None = None

    def start(self) -> None:
        self.thread = threading.Thread(target=serve, args=(self.partition, self.address, None,
                                                           self.stop), daemon=True)
        self.thread.start()
        assert self.partition.ready.wait(30)

    def search(self, probe: matcher.Templates, min_seq: int, epoch: int = 1) -> pb.SearchReply:
        request = pb.SearchRequest(
            epoch=epoch, min_seq=min_seq, probes=[codec.templates_to_pb(probe)],
            eligibles=[codec.eligibility_to_pb(matcher.Eligibility(frozenset(range(256))))],
            finger_threshold=CONFIG.finger_threshold, face_threshold=CONFIG.face_threshold)
        with grpc.insecure_channel(self.address) as channel:
            call = channel.unary_unary(f"/{SERVICE}/Search",
                                       request_serializer=pb.SearchRequest.SerializeToString,
                                       response_deserializer=pb.SearchReply.FromString)
            reply: pb.SearchReply = call(request, timeout=5)
            return reply


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    engine = make_engine(f"sqlite:///{tmp_path / 'db'}")
    upgrade(engine)
    sessions = make_sessions(engine)
    lease = acquire_writer_lease(engine)
    writer = BatchProcessor(sessions, LocalGallery(matcher.Gallery(CONFIG)), MASTER, None,
                            Clock(), epoch=lease.epoch)
    partition = Partition(0, 1, make_gallery(SETTINGS, template_source(sessions, MASTER)),
                          sessions, MASTER, snapshot=tmp_path / "shard.snapshot",
                          inline_catch_up=0)
    address = f"127.0.0.1:{free_port()}"
    running = Served(sessions, writer, partition, address, threading.Event())
    try:
        yield running
    finally:
        running.stop.set()
        if running.thread is not None:
            running.thread.join(30)
        lease.release()
        engine.dispose()


def _store(writer: BatchProcessor, person: int) -> tuple[int, matcher.Templates]:
    job = _job("IT", 2, person, 1)
    outcome = writer([Transmit(job, None)])[0]
    assert isinstance(outcome, TransmissionOutcome) and outcome.dataset_id is not None
    return outcome.dataset_id, job.templates


def test_a_lagging_replica_is_refused_until_it_has_caught_up(served: Served) -> None:
    first, _ = _store(served.writer, new_person_seed())
    served.start()
    assert first in served.partition.gallery
    later, probe_later = _store(served.writer, new_person_seed())  # never pushed to the shard
    committed = served.writer.committed_seq
    assert served.partition.applied < committed
    with pytest.raises(grpc.RpcError) as refused:
        served.search(probe_later, committed)
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "behind" in (refused.value.details() or "")
    deadline = time.monotonic() + 20
    while True:  # the shard's follower reads the log meanwhile
        try:
            reply = served.search(probe_later, committed)
            break
        except grpc.RpcError as error:
            assert error.code() == grpc.StatusCode.UNAVAILABLE
            assert time.monotonic() < deadline, "the replica never caught up"
            time.sleep(0.2)
    assert reply.applied_seq >= committed
    assert [hit.entry_id for hit in reply.outcomes[0].hits] == [later]


def test_a_superseded_writer_is_refused_by_the_shard(served: Served) -> None:
    _store(served.writer, new_person_seed())
    served.start()
    probe = _job("IT", 2, new_person_seed(), 1).templates
    assert served.search(probe, 0, epoch=5).epoch == 5
    with pytest.raises(grpc.RpcError) as refused:
        served.search(probe, 0, epoch=4)
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_each_takeover_raises_the_epoch_and_fences_the_old_writer_in_the_database(
        tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db'}")
    upgrade(engine)
    sessions = make_sessions(engine)
    first = acquire_writer_lease(engine)
    with pytest.raises(ConfigurationError):
        acquire_writer_lease(engine)  # not waiting: refused while the first holds it
    old = BatchProcessor(sessions, LocalGallery(matcher.Gallery(CONFIG)), MASTER, None,
                         Clock(), epoch=first.epoch)
    _store(old, new_person_seed())
    taken: list[int] = []
    standby = threading.Thread(
        target=lambda: taken.append(acquire_writer_lease(engine, wait=True).epoch))
    standby.start()
    time.sleep(1.0)
    assert not taken  # it waits while the lease is held
    first.release()
    standby.join(10)
    assert taken == [first.epoch + 1]
    with sessions() as session:
        before = session.scalar(select(func.count()).select_from(DatasetRow))
    with pytest.raises(WriterFenced):  # before writing anything
        old([Transmit(_job("IT", 2, new_person_seed(), 1), None)])
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(DatasetRow)) == before
    engine.dispose()
