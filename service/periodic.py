"""A job that runs every few seconds on its own daemon thread until stopped.

The retention sweeper, the threshold follower and the index-log pruner each run one such loop;
a round that fails is logged and the next round runs as usual (the database may be away for a
while, and a background job must never take the process down)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import structlog

_log = structlog.get_logger(__name__)


class Periodic:
    def __init__(self, name: str, interval: float, job: Callable[[], object],
                 failure_event: str) -> None:
        self._interval = interval
        self._job = job
        self._failure_event = failure_event
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._job()
            except Exception:
                _log.exception(self._failure_event)
