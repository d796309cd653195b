"""An API worker's SubmitStream to the writer, on the worker's event loop.

Writes submitted while the previous message was being sent go out together in the next one, so
under load a message carries many writes and the per-call gRPC cost is paid per message, not
per write (`stream_server` is the writer's side). Answers come back as the writer's batches
commit and settle their writes' futures.

Back-pressure, as before the stream: at most `in_flight` normal writes are at the writer at
once; the rest wait here, before their deadline starts (a bulk load of thousands of items
waits instead of timing out). Urgent writes are never held back. Each sent write has its own
deadline (`timeout`): past it the write is a NotReady, whatever comes later.

A stream that breaks or ends (the writer died, restarts or stops) fails every write sent on it
and not yet answered with a NotReady: each was either not taken or committed, never
acknowledged and then lost; a retry with the same reference number tells which. The next write
opens a new stream.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

import grpc

from service.errors import NotReady, ServiceError
from service.writer.commands import WorkItem, WorkResult
from service.writer.protocol import writer_pb2 as pb

Settle = Callable[[Future[WorkResult], WorkItem, Callable[[], Any]], None]


class _Write:
    __slots__ = ("done", "item", "number", "request", "timer", "urgent")

    def __init__(self, done: Future[WorkResult], item: WorkItem, request: pb.WorkRequest,
                 urgent: bool) -> None:
        self.done, self.item, self.request, self.urgent = done, item, request, urgent
        self.number = 0
        self.timer: asyncio.TimerHandle | None = None


class _Open:
    """One open stream: its call, and the writes waiting for the next message."""

    def __init__(self, call: Any) -> None:
        self.call = call
        self.outbox: list[pb.Submitted] = []
        self.wake = asyncio.Event()


def _fail(done: Future[WorkResult], error: BaseException) -> None:
    if not done.done():  # a caller may have cancelled it
        done.set_exception(error)


class StreamSubmitter:
    """The writes of one event loop, on one stream at a time."""

    def __init__(self, open_call: Callable[[], Any], settle: Settle,
                 broken: Callable[[grpc.RpcError | None], ServiceError], *,
                 timeout: float, in_flight: int) -> None:
        self._open_call = open_call
        self._settle = settle  # the unary path's: result, refusal or NotReady into the future
        self._broken = broken  # what a failed or ended stream means for its writes
        self._timeout = timeout
        self._in_flight = in_flight
        self._numbers = itertools.count(1)
        self._sent: dict[int, _Write] = {}  # on the current stream, not yet answered
        self._held: collections.deque[_Write] = collections.deque()  # normal, over the bound
        self._normal = 0  # normal writes in _sent
        self._open: _Open | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.answered = 0.0  # time.monotonic() of the writer's last answer

    def submit(self, done: Future[WorkResult], item: WorkItem, request: pb.WorkRequest,
               urgent: bool) -> None:
        write = _Write(done, item, request, urgent)
        if urgent or self._normal < self._in_flight:
            self._send(write)
        else:
            self._held.append(write)

    def _send(self, write: _Write) -> None:
        opened = self._open or self._start()
        write.number = next(self._numbers)
        self._sent[write.number] = write
        if not write.urgent:
            self._normal += 1
        write.timer = asyncio.get_running_loop().call_later(self._timeout, self._expire,
                                                            write.number)
        opened.outbox.append(pb.Submitted(id=write.number, work=write.request))
        opened.wake.set()

    def _start(self) -> _Open:
        opened = self._open = _Open(self._open_call())
        for work in (self._write_messages(opened), self._read_answers(opened)):
            task = asyncio.get_running_loop().create_task(work)
            self._tasks.add(task)  # held until done: the loop keeps only weak references
            task.add_done_callback(self._tasks.discard)
        return opened

    async def _write_messages(self, opened: _Open) -> None:
        """Every write queued since the last message, in one message, in submission order."""
        try:
            while opened is self._open:
                await opened.wake.wait()
                opened.wake.clear()
                if opened is not self._open:
                    return
                writes, opened.outbox = opened.outbox, []
                if writes:
                    await opened.call.write(pb.Submissions(items=writes))
        except grpc.RpcError as error:
            self._end(opened, error)
        except asyncio.InvalidStateError:  # the call ended while writing: the reader says why
            return

    async def _read_answers(self, opened: _Open) -> None:
        try:
            while True:
                answers = await opened.call.read()
                if answers is grpc.aio.EOF:
                    break
                self.answered = time.monotonic()
                for answered in answers.items:
                    self._answered(answered)
        except grpc.RpcError as error:
            self._end(opened, error)
            return
        except asyncio.CancelledError:
            self._end(opened, None)
            raise
        self._end(opened, None)  # the writer ended the stream (it is stopping)

    def _answered(self, answered: pb.Answered) -> None:
        write = self._sent.pop(answered.id, None)
        if write is None:
            return  # past its deadline: already answered NotReady
        self._release(write)
        if answered.failed:
            _fail(write.done, self._broken(_FailedItem(answered.failed)))
        elif not write.done.done():
            self._settle(write.done, write.item, lambda: answered.reply)

    def _expire(self, number: int) -> None:
        write = self._sent.pop(number, None)
        if write is not None:
            write.timer = None
            self._release(write)
            _fail(write.done, NotReady(
                "the writer did not answer in time; a retry with the same reference number "
                "tells whether the transmission was stored"))

    def _release(self, write: _Write) -> None:
        if write.timer is not None:
            write.timer.cancel()
        if not write.urgent:
            self._normal -= 1
            while self._held and self._normal < self._in_flight:
                self._send(self._held.popleft())

    def _end(self, opened: _Open, error: grpc.RpcError | None) -> None:
        """The stream failed or ended: its unanswered writes get the failure; writes held
        back go out on a new stream (which fails them as quickly if the writer is gone)."""
        if opened is not self._open:
            return
        self._open = None
        opened.wake.set()  # lets its sender see that it is done
        opened.call.cancel()
        failure = self._broken(error)
        sent, self._sent, self._normal = self._sent, {}, 0
        for write in sent.values():
            if write.timer is not None:
                write.timer.cancel()
            _fail(write.done, failure)
        while self._held and self._normal < self._in_flight:
            self._send(self._held.popleft())


class _FailedItem(grpc.RpcError):  # type: ignore[misc]
    """An item the writer answered with a status instead of a reply (as a unary call would
    have ended), for the same mapping to the worker's answer."""

    def __init__(self, code_name: str) -> None:
        super().__init__(code_name)
        self._code = getattr(grpc.StatusCode, code_name, grpc.StatusCode.UNKNOWN)

    def code(self) -> grpc.StatusCode:
        return self._code
