"""SubmitStream between an API worker and the writer: writes pending together travel in one
message, each is answered only after its batch commits, urgency reaches the writer's queue, and
a write whose stream breaks, or that outlives its deadline, is a NotReady (never acknowledged)."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from typing import Any

import pytest

from schemas.codes import Role
from service.audit.events import RequestAudit
from service.auth import Caller
from service.crypto import MasterKey
from service.errors import NotReady
from service.runtime import matcher_config
from service.settings import Settings
from service.shard.rpc_server import bound_server, set_serving
from service.writer.client import RemoteWriter
from service.writer.commands import RecordOnly, WorkItem, WorkResult
from service.writer.protocol import writer_pb2 as pb
from service.writer.server import SERVICE, WriterService
from tests.service_process import free_port

CALLER = Caller("kIT", "IT", "unit", Role.OFFICER)


class _HeldBatches:
    """The writer's pipeline, committing only when the test says so."""

    def __init__(self) -> None:
        self.pending: list[tuple[bool, Future[WorkResult]]] = []
        self.lock = threading.Lock()
        self.arrived = threading.Condition(self.lock)

    def submit(self, item: WorkItem, *, urgent: bool = False) -> Future[WorkResult]:
        done: Future[WorkResult] = Future()
        with self.lock:
            self.pending.append((urgent, done))
            self.arrived.notify_all()
        return done

    def wait_for(self, count: int) -> None:
        with self.lock:
            assert self.arrived.wait_for(lambda: len(self.pending) >= count, timeout=10)

    def commit(self) -> None:
        with self.lock:
            batch, self.pending = self.pending, []
        for _, done in batch:
            done.set_result(None)


class _Runtime:
    def __init__(self) -> None:
        self.master = MasterKey(os.urandom(32))
        self.pipeline = _HeldBatches()
        self.ready = threading.Event()
        self.ready.set()


class _Writer:
    """A writer service on a free port that counts the stream messages it receives."""

    def __init__(self) -> None:
        self.runtime = _Runtime()
        self.service = WriterService(self.runtime)  # type: ignore[arg-type]
        self.messages = 0
        endpoint = self.service.stream

        def counted(requests: Iterator[pb.Submissions], context: Any) -> Iterator[pb.Answers]:
            def counting() -> Iterator[pb.Submissions]:
                for message in requests:
                    self.messages += 1
                    yield message
            return endpoint(counting(), context)

        self.address = f"127.0.0.1:{free_port()}"
        self.server, health = bound_server(
            SERVICE, self.service.methods(), self.address, None, threads=4,
            streams={"SubmitStream": (counted, pb.Submissions, pb.Answers)})
        self.server.start()
        set_serving(health, SERVICE)


def _record() -> RecordOnly:
    audit = RequestAudit("r1", "POST", "h", route="/v1/transmissions", caller=CALLER)
    audit.concern("IT2X", "IT", dt.date(2030, 1, 2))
    return RecordOnly(audit, 200)


@pytest.fixture
def writer() -> Iterator[_Writer]:
    started = _Writer()
    yield started
    started.server.stop(grace=None)


def _client(writer: _Writer, **settings: Any) -> RemoteWriter:
    configured = Settings(writer=writer.address, **settings)
    return RemoteWriter(configured, matcher_config(configured))


def test_pending_writes_share_a_message_and_are_answered_after_the_commit(
        writer: _Writer) -> None:
    client = _client(writer, writer_in_flight=64)

    async def load() -> None:
        sent = [client.submit(_record(), urgent=index == 5) for index in range(30)]
        await asyncio.to_thread(writer.runtime.pipeline.wait_for, 30)
        await asyncio.sleep(0.2)
        assert not any(done.done() for done in sent), "answered before the commit"
        writer.runtime.pipeline.commit()
        assert await asyncio.gather(*map(asyncio.wrap_future, sent)) == [None] * 30

    try:
        asyncio.run(load())
    finally:
        client.close()
    assert writer.messages == 1  # submitted in one turn of the loop: one message
    assert client.depth == 0


def test_urgency_travels_on_the_stream_in_order(writer: _Writer) -> None:
    client = _client(writer)

    async def load() -> list[bool]:
        sent = [client.submit(_record(), urgent=urgent) for urgent in (False, True, False)]
        await asyncio.to_thread(writer.runtime.pipeline.wait_for, 3)
        urgency = [urgent for urgent, _ in writer.runtime.pipeline.pending]
        writer.runtime.pipeline.commit()
        await asyncio.gather(*map(asyncio.wrap_future, sent))
        return urgency

    try:
        assert asyncio.run(load()) == [False, True, False]
    finally:
        client.close()


def test_a_broken_stream_or_a_late_answer_is_not_ready_never_a_result(writer: _Writer) -> None:
    client = _client(writer, writer_timeout_seconds=0.5)

    async def load() -> None:
        late = client.submit(_record())
        with pytest.raises(NotReady, match="did not answer in time"):
            await asyncio.wrap_future(late)
        writer.runtime.pipeline.commit()  # the late write commits: its answer is dropped
        unanswered = client.submit(_record())
        await asyncio.to_thread(writer.runtime.pipeline.wait_for, 1)
        writer.server.stop(grace=None)  # the writer dies with the write taken, not answered
        with pytest.raises(NotReady):
            await asyncio.wrap_future(unanswered)
        with pytest.raises(NotReady):  # and a new stream finds nobody
            await asyncio.wrap_future(client.submit(_record()))

    try:
        asyncio.run(load())
    finally:
        client.close()


def test_a_stopping_writer_answers_what_it_took_and_refuses_more(writer: _Writer) -> None:
    client = _client(writer)

    async def load() -> None:
        taken = client.submit(_record())
        await asyncio.to_thread(writer.runtime.pipeline.wait_for, 1)
        writer.service.stream.close()
        with pytest.raises(NotReady):
            await asyncio.wrap_future(client.submit(_record()))
        assert not taken.done()
        writer.runtime.pipeline.commit()
        assert await asyncio.wrap_future(taken) is None

    try:
        asyncio.run(load())
    finally:
        client.close()
