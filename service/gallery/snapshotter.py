"""When to write the gallery snapshot: after `snapshot_every` changes, `snapshot_seconds` after
the first unsaved change, soon after erasures (so that an erased dataset does not outlive its
erasure on disk by more than a few seconds), and at shutdown. A background thread; writing
never blocks searches for longer than the copy of the arrays (encryption and disk run outside
the gallery's lock)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import structlog

import matcher
from service.crypto import MasterKey
from service.gallery.snapshot import write_snapshot

_log = structlog.get_logger(__name__)
_POLL_SECONDS = 2.0
# Erasures come in runs (a retention sweep): wait until none came for this long, then write.
_ERASURE_QUIET_SECONDS = 5.0


class Snapshotter:
    def __init__(
        self, path: Path, gallery: matcher.Gallery, master: MasterKey, *, every: int,
        seconds: int, clock: Callable[[], float] = time.monotonic, unsaved: int = 0,
    ) -> None:
        """`unsaved`: changes startup made beyond the snapshot on disk (reconciled or rebuilt);
        they count as pending, so they are saved by the usual rules and at shutdown, and the
        next start does not reconcile them again."""
        self._clock = clock
        self._path = path
        self._gallery = gallery
        self._master = master
        self._every = every
        self._seconds = seconds
        self._saved_at_mutation = gallery.mutations
        self._saved_at_removal = gallery.removals
        self._removals_seen = gallery.removals
        self._last_removal = 0.0
        self._dirty_since: float | None = None
        self._unsaved_at_start = unsaved
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="abis-snapshot", daemon=True)

    def start(self) -> None:
        self._saved_at_mutation = self._gallery.mutations
        self._saved_at_removal = self._removals_seen = self._gallery.removals
        self._thread.start()

    def save(self) -> None:
        """Write a snapshot now (one at a time)."""
        with self._lock:
            mutation, removal = self._gallery.mutations, self._gallery.removals
            started = time.monotonic()
            count = write_snapshot(self._path, self._gallery, self._master)
            self._saved_at_mutation, self._saved_at_removal = mutation, removal
            self._dirty_since = None
            self._unsaved_at_start = 0
            _log.info("gallery_snapshot_written", datasets=count,
                      seconds=round(time.monotonic() - started, 2))

    def stop(self) -> None:
        """Stop the thread and write a final snapshot if anything changed since the last."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        if self._pending() or not self._path.exists():
            self._safe_save()

    def _pending(self) -> int:
        return self._gallery.mutations - self._saved_at_mutation + self._unsaved_at_start

    def due(self) -> bool:
        """Whether a snapshot should be written now (the thread asks every few seconds)."""
        pending = self._pending()
        if not pending:
            return False
        now = self._clock()
        if self._dirty_since is None:
            self._dirty_since = now
        removals = self._gallery.removals
        if removals != self._removals_seen:
            self._removals_seen, self._last_removal = removals, now
        if removals != self._saved_at_removal and now - self._last_removal >= (
                _ERASURE_QUIET_SECONDS):
            return True
        if self._every and pending >= self._every:
            return True
        return bool(self._seconds) and now - self._dirty_since >= self._seconds

    def _run(self) -> None:
        while not self._stop.wait(_POLL_SECONDS):
            if self.due():
                self._safe_save()

    def _safe_save(self) -> None:
        try:
            self.save()
        except Exception:  # a failed snapshot only costs a longer next startup
            _log.exception("gallery_snapshot_failed")
