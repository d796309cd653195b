"""The writer's side of SubmitStream: one long-lived stream per API worker.

A unary Submit holds one of the writer's handler threads per write until the write's batch
commits, and pays a gRPC call on both sides per write (a third of the writer's samples and a
tenth of a worker's in the profile, docs/api-tier.md). On a stream a worker sends every write it
has pending in one message; a reader thread takes them into the pipeline in the order they came
(with their urgency), and the stream's handler thread sends the answers back as their batches
commit, every answer ready at that moment in one message. A stream holds one handler thread and
one reader thread however many writes it has in flight, so health checks never wait for a
thread. An answer is built only from the item's future, which the pipeline completes after the
batch's commit: the answer still comes after the commit.
"""

from __future__ import annotations

import functools
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from typing import Any

import grpc
import structlog

from service.writer.commands import WorkItem, WorkResult
from service.writer.protocol import writer_pb2 as pb

_log = structlog.get_logger(__name__)

# A stream's queue holds (id, item, done future or failure) and wake-ups (the RPC or the
# worker's side of it ended, or the writer is closing).
_WAKE = object()


class Taken:
    """A write taken from a stream: its item and future, or why it was not taken (a status
    code name, as a unary call would have ended)."""

    __slots__ = ("detail", "item", "outcome")

    def __init__(self, item: WorkItem | None, outcome: Future[WorkResult] | str,
                 detail: str = "") -> None:
        self.item, self.outcome, self.detail = item, outcome, detail


class StreamEndpoint:
    """SubmitStream for a WriterService: `take` queues one request (the unary Submit's first
    half), `answer` turns a done item into its reply (the second half)."""

    def __init__(self, take: Callable[[pb.WorkRequest], Taken],
                 answer: Callable[[WorkItem, Future[WorkResult]], pb.WorkReply | str]) -> None:
        self._take = take
        self._answer = answer
        self._closing = threading.Event()
        self._open: set[queue.SimpleQueue[Any]] = set()
        self._open_lock = threading.Lock()

    def close(self) -> None:
        """The writer is stopping: refuse further writes (NotReady on the worker, which
        retries elsewhere or later) and end each stream once what it took is answered."""
        self._closing.set()
        with self._open_lock:
            for answers in self._open:
                answers.put(_WAKE)

    def __call__(self, requests: Iterator[pb.Submissions], context: Any) -> Iterator[pb.Answers]:
        answers: queue.SimpleQueue[Any] = queue.SimpleQueue()
        taken = [0]  # written by the reader only; read here when closing
        ended = threading.Event()

        def rpc_ended() -> None:  # the worker went away, or the server stopped the stream
            ended.set()
            answers.put(_WAKE)

        context.add_callback(rpc_ended)
        with self._open_lock:
            self._open.add(answers)
        threading.Thread(target=self._read, args=(requests, answers, taken),
                         name="abis-writer-stream", daemon=True).start()
        try:
            yield from self._answers(answers, taken, ended)
        finally:
            with self._open_lock:
                self._open.discard(answers)

    def _read(self, requests: Iterator[pb.Submissions], answers: queue.SimpleQueue[Any],
              taken: list[int]) -> None:
        try:
            for message in requests:
                for submitted in message.items:
                    took = (Taken(None, grpc.StatusCode.UNAVAILABLE.name)
                            if self._closing.is_set() else self._take(submitted.work))
                    taken[0] += 1
                    if isinstance(took.outcome, str):
                        answers.put((submitted.id, took.item, took.outcome))
                    else:  # put on the queue by the pipeline's thread: nothing more there
                        took.outcome.add_done_callback(
                            functools.partial(_put, answers, submitted.id, took.item))
        except Exception:  # noqa: BLE001 - the RPC ended under the reader (worker gone)
            pass
        answers.put(_WAKE)

    def _answers(self, answers: queue.SimpleQueue[Any], taken: list[int],
                 ended: threading.Event) -> Iterator[pb.Answers]:
        answered = 0
        while not ended.is_set():
            ready = [answers.get()]
            while True:
                try:
                    ready.append(answers.get_nowait())
                except queue.Empty:
                    break
            out = []
            for entry in ready:
                if entry is _WAKE:
                    continue
                number, item, outcome = entry
                if not isinstance(outcome, str):
                    outcome = self._answer(item, outcome)
                answered += 1
                out.append(pb.Answered(id=number, failed=outcome) if isinstance(outcome, str)
                           else pb.Answered(id=number, reply=outcome))
            if out:
                yield pb.Answers(items=out)
            if self._closing.is_set() and answered >= taken[0]:
                return  # every write this stream took is answered: end it (OK)


def _put(answers: queue.SimpleQueue[Any], number: int, item: WorkItem | None,
         future: Future[WorkResult]) -> None:
    answers.put((number, item, future))
