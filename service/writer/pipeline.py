"""A single worker thread that takes queued work in batches, urgent first, in arrival order.

One writer keeps comparison and storage consistent: a transmission is compared with everything
stored before it, including earlier transmissions of the same batch, and under load the batch
shares one FAISS call and one commit (one fsync) instead of one each.
"""

from __future__ import annotations

import contextlib
import itertools
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

import structlog

Item = TypeVar("Item")
Result = TypeVar("Result")

_log = structlog.get_logger(__name__)
_URGENT, _NORMAL, _STOP = 0, 1, 2


@dataclass(order=True)
class _Queued(Generic[Item, Result]):
    priority: int
    arrival: int
    item: Item | None = field(compare=False)
    future: Future[Result] | None = field(compare=False)


Handler = Callable[[Sequence[Item]], Sequence[Result | BaseException]]


class BatchPipeline(Generic[Item, Result]):
    def __init__(self, handle: Handler[Item, Result], *, max_batch: int, name: str,
                 on_batch: Callable[[int], None] | None = None) -> None:
        self._handle = handle
        self._on_batch = on_batch  # told each batch's size (metrics)
        self._max_batch = max_batch
        self._queue: queue.PriorityQueue[_Queued[Item, Result]] = queue.PriorityQueue()
        self._arrivals = itertools.count()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.batches = 0  # how many handler calls (each one commit)
        self.items = 0  # how many items they held

    def start(self) -> None:
        self._thread.start()

    @property
    def depth(self) -> int:
        """Items waiting for the writer (approximate: the queue moves while it is read)."""
        return self._queue.qsize()

    def submit(self, item: Item, *, urgent: bool = False) -> Future[Result]:
        future: Future[Result] = Future()
        priority = _URGENT if urgent else _NORMAL
        self._queue.put(_Queued(priority, next(self._arrivals), item, future))
        return future

    def waiting(self) -> dict[str, int]:
        """Items queued and not yet taken, by priority (a scan under the queue's lock: for
        metrics scrapes, not the hot path)."""
        with self._queue.mutex:
            priorities = [queued.priority for queued in self._queue.queue]
        return {"urgent": priorities.count(_URGENT), "normal": priorities.count(_NORMAL)}

    def stop(self, timeout: float = 30.0) -> None:
        """Finish what is queued, then stop."""
        if self._thread.is_alive():
            self._queue.put(_Queued(_STOP, next(self._arrivals), None, None))
            self._thread.join(timeout)

    def _take_batch(self) -> tuple[list[_Queued[Item, Result]], bool]:
        batch = [self._queue.get()]
        while len(batch) < self._max_batch:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        stop = any(queued.priority == _STOP for queued in batch)
        return [queued for queued in batch if queued.priority != _STOP], stop

    def _run(self) -> None:
        # The OS thread gets the pipeline's name (Python 3.11 does not set it), so `top -H` and
        # the load test's per-thread CPU (loadtests/processes.py) can tell the writer's thread
        # from the rest: it is the one that bounds the tier's throughput.
        with contextlib.suppress(OSError):
            Path(f"/proc/self/task/{threading.get_native_id()}/comm").write_text(
                self._thread.name[:15])
        while True:
            batch, stop = self._take_batch()
            if batch:
                self._settle(batch)
            if stop:
                return

    def _settle(self, batch: list[_Queued[Item, Result]]) -> None:
        items = [queued.item for queued in batch if queued.item is not None]
        self.batches += 1
        self.items += len(items)
        if self._on_batch is not None:
            self._on_batch(len(items))
        try:
            results = self._handle(items)
        except Exception as error:  # a bug must fail the requests, never kill the worker
            _log.exception("batch_failed", size=len(items))
            results = [error] * len(items)
        for queued, result in zip(batch, results, strict=True):
            assert queued.future is not None
            if isinstance(result, BaseException):
                queued.future.set_exception(result)
            else:
                queued.future.set_result(result)
