"""An API worker under a bulk load: it keeps at most `writer_in_flight` writes at the writer
and stays ready while the writer is busy (regression: a 2,000-item bulk request through
`abis serve --workers 2` had hundreds of items refused as "not ready", because every writer
handler thread was blocked on a batch and the worker's health check timed out behind them)."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import threading
from concurrent.futures import Future

from schemas.codes import Role
from service.audit.events import RequestAudit
from service.auth import Caller
from service.crypto import MasterKey
from service.runtime import matcher_config
from service.settings import Settings
from service.shard.rpc_server import bound_server, set_serving
from service.writer.client import RemoteWriter
from service.writer.commands import RecordOnly, WorkItem, WorkResult
from service.writer.server import SERVICE, WriterService
from tests.service_process import free_port

CALLER = Caller("kIT", "IT", "unit", Role.OFFICER)
BATCH_SECONDS = 0.3  # one "commit": every pending item is answered together, as in a batch
HANDLER_THREADS = 6
IN_FLIGHT = 4
ITEMS = 40  # without the bound: about 7 batches queued ahead of a health check (> its 1 s)


class _SlowBatches:
    """The writer's pipeline: answers whatever is pending every BATCH_SECONDS."""

    def __init__(self) -> None:
        self._pending: list[Future[WorkResult]] = []
        self._lock = threading.Lock()
        self.most_pending = 0
        self.stop = threading.Event()
        threading.Thread(target=self._commit, daemon=True).start()

    def submit(self, item: WorkItem, *, urgent: bool = False) -> Future[WorkResult]:
        done: Future[WorkResult] = Future()
        with self._lock:
            self._pending.append(done)
            self.most_pending = max(self.most_pending, len(self._pending))
        return done

    def _commit(self) -> None:
        while not self.stop.wait(BATCH_SECONDS):
            with self._lock:
                batch, self._pending = self._pending, []
            for done in batch:
                done.set_result(None)


class _WriterRuntime:
    def __init__(self) -> None:
        self.master = MasterKey(os.urandom(32))
        self.pipeline = _SlowBatches()
        self.ready = threading.Event()
        self.ready.set()


def _record() -> RecordOnly:
    audit = RequestAudit("r1", "POST", "h", route="/v1/bulk/transmissions", caller=CALLER)
    audit.concern("IT2X", "IT", dt.date(2030, 1, 2))
    return RecordOnly(audit, 200)


def test_a_busy_writer_gets_bounded_calls_and_the_worker_stays_ready() -> None:
    runtime = _WriterRuntime()
    address = f"127.0.0.1:{free_port()}"
    service = WriterService(runtime)  # type: ignore[arg-type]
    server, health = bound_server(SERVICE, service.methods(), address, None,
                                  threads=HANDLER_THREADS, streams=service.streams())
    server.start()
    set_serving(health, SERVICE)
    settings = Settings(writer=address, writer_in_flight=IN_FLIGHT)
    writer = RemoteWriter(settings, matcher_config(settings))
    writer.start()

    async def load() -> list[bool]:
        for _ in range(100):
            if writer.ready.is_set():
                break
            await asyncio.sleep(0.05)
        assert writer.ready.is_set()
        sent = asyncio.gather(*(asyncio.wrap_future(writer.submit(_record()))
                                for _ in range(ITEMS)))
        readiness = []
        while not sent.done():
            readiness.append(writer.ready.is_set())
            await asyncio.sleep(0.05)
        assert await sent == [None] * ITEMS  # every item answered, none refused
        return readiness

    try:
        readiness = asyncio.run(load())
    finally:
        writer.close()
        runtime.pipeline.stop.set()
        server.stop(grace=None)
    assert all(readiness), "the worker called a busy writer not ready"
    assert runtime.pipeline.most_pending <= IN_FLIGHT
