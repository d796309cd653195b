"""How a gallery starts, for every kind of process: the one place that says so.

    open (an empty gallery whose templates come from the store: `store_gallery`)
    -> load its snapshot if usable, else build it from its rows of the store
    -> catch up with the store
    -> ready

`open_gallery` runs these steps; what differs between the kinds is a small `Startup` strategy:
which snapshot, which rows belong to the gallery, and how it catches up.

- `abis serve`, `abis writer` (through `Runtime`) and `abis calibrate`: `start_gallery`, with
  `ReconcileWithStore`: the gallery snapshot (ABIS_SNAPSHOT), every stored dataset, and a
  reconciliation with the store (this process is the only writer: the store is the truth);
  then a snapshotter keeps the snapshot up to date.
- `abis shard`: `Partition.load` (service.shard.partition), with its `ReplayLog`: the
  partition's snapshot (tagged with its index-log sequence, unusable once the log was pruned
  past it), the datasets of its partition (dataset_id mod P, `Rows`), and a replay of the index
  log from the sequence the gallery holds. If the log no longer reaches back that far while it
  catches up (`StartOver`), it is built from the store once more. A running replica that falls
  behind a pruned log rebuilds the same way (`rebuild_gallery`).
- `abis api` workers hold no gallery.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

import structlog
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

import matcher
from service.crypto import MasterKey
from service.datasets.sealed import template_source
from service.gallery.loader import Progress, Reconciled, load_gallery, reconcile
from service.gallery.snapshot import SnapshotError, load_snapshot
from service.gallery.snapshotter import Snapshotter
from service.matcher_settings import make_gallery
from service.settings import Settings

_log = structlog.get_logger(__name__)

Position = TypeVar("Position")
Result = TypeVar("Result")


class GalleryLoadFailed(Exception):
    """The gallery could not be loaded from the store; the message names the likely cause."""


class StartOver(Exception):
    """Catching up found that the store no longer reaches back to where the gallery is (the
    index log was pruned past it): the gallery must be built from the store again."""


class Startup(Protocol[Position, Result]):
    """What differs between the kinds of gallery at startup."""

    def snapshot(self) -> Position | None:
        """Load the gallery's snapshot if there is one and it is usable; where it leaves the
        gallery (None: absent or unusable, the gallery is built from the store)."""

    def build(self) -> Position:
        """Fill the gallery with its rows of the store; where that leaves it."""

    def catch_up(self, position: Position) -> Result:
        """Bring the gallery from `position` up to the store (raises StartOver if the store no
        longer reaches back to it)."""

    def ready(self, result: Result) -> None:
        """The gallery is complete: let it serve."""


def open_gallery(startup: Startup[Position, Result]) -> Result:
    """Load the snapshot or build from the store, catch up, then ready."""
    position = startup.snapshot()
    if position is None:
        position = startup.build()
    try:
        result = startup.catch_up(position)
    except StartOver:  # the log was pruned past us while we loaded: from the store, once more
        result = startup.catch_up(startup.build())
    startup.ready(result)
    return result


def rebuild_gallery(startup: Startup[Position, Result]) -> Result:
    """Build from the store and catch up (a running gallery the log no longer reaches)."""
    return startup.catch_up(startup.build())


@dataclass(frozen=True, slots=True)
class _Loaded:
    from_snapshot: bool
    datasets: int


class ReconcileWithStore:
    """The writing process's gallery: every stored dataset; a snapshot is reconciled with the
    store, the source of truth (removing what it no longer holds, adding what the snapshot
    lacks, fixing marks)."""

    def __init__(self, sessions: sessionmaker[Session], master: MasterKey,
                 gallery: matcher.Gallery, snapshot: Path | None,
                 progress: Progress | None = None) -> None:
        self._sessions, self._master, self._gallery = sessions, master, gallery
        self._path, self._progress = snapshot, progress
        self._started = time.monotonic()

    def snapshot(self) -> _Loaded | None:
        if self._path is None:
            return None
        if not self._path.exists():
            _log.info("gallery_snapshot_absent", path=str(self._path))  # a first start
            return None
        try:
            held = load_snapshot(self._path, self._master, self._gallery)
        except SnapshotError as error:
            _log.warning("gallery_snapshot_unusable", reason=str(error))
            return None
        _log.info("gallery_snapshot_loaded", datasets=held,
                  seconds=round(time.monotonic() - self._started, 2))
        return _Loaded(True, held)

    def build(self) -> _Loaded:
        return _Loaded(False, load_gallery(self._sessions, self._master, self._gallery,
                                           self._progress))

    def catch_up(self, position: _Loaded) -> Reconciled:
        if not position.from_snapshot:
            return Reconciled(0, 0, position.datasets, 0)  # just read from the store
        removed, added, marks = reconcile(self._sessions, self._master, self._gallery,
                                          self._progress)
        _log.info("gallery_reconciled", removed=removed, added=added, marks_fixed=marks,
                  seconds=round(time.monotonic() - self._started, 2))
        return Reconciled(position.datasets, removed, added, marks)

    def ready(self, result: Reconciled) -> None:
        """Nothing to signal: `start_gallery`'s caller marks the process ready."""


def load_or_rebuild(sessions: sessionmaker[Session], master: MasterKey,
                    gallery: matcher.Gallery, snapshot: Path | None,
                    progress: Progress | None = None) -> Reconciled:
    """The snapshot reconciled with the store if it is usable, else a full rebuild."""
    return open_gallery(ReconcileWithStore(sessions, master, gallery, snapshot, progress))


@dataclass(frozen=True, slots=True)
class StartedGallery:
    loaded: Reconciled
    snapshotter: Snapshotter | None  # running: stop it at shutdown


def store_gallery(settings: Settings, sessions: sessionmaker[Session], master: MasterKey
                  ) -> matcher.Gallery:
    """An empty gallery of the settings' kind whose templates, when the fast index needs them
    again, are read from the store."""
    return make_gallery(settings, template_source(sessions, master))


def start_gallery(settings: Settings, sessions: sessionmaker[Session], master: MasterKey,
                  gallery: matcher.Gallery, *, progress: Progress | None = None,
                  snapshots: bool = True) -> StartedGallery:
    """Fill `gallery`: the snapshot (ABIS_SNAPSHOT) reconciled with the store if usable, else
    every stored dataset; then, with `snapshots`, keep the snapshot up to date."""
    path = settings.effective_snapshot_file
    try:
        loaded = load_or_rebuild(sessions, master, gallery, path, progress or progress_log())
    except Exception as error:
        _log.exception("gallery_load_failed", error_type=type(error).__name__)
        raise GalleryLoadFailed(f"the gallery could not be loaded from the store "
                                f"({type(error).__name__}); {likely_cause(error)}") from error
    snapshotter = None
    if snapshots and path is not None:
        snapshotter = Snapshotter(path, gallery, master, every=settings.snapshot_every,
                                  seconds=settings.snapshot_seconds, unsaved=loaded.changes)
        snapshotter.start()
    return StartedGallery(loaded, snapshotter)


def likely_cause(error: Exception) -> str:
    if isinstance(error, InvalidUnwrap | InvalidTag):
        return ("a dataset does not open with the master key: most likely the service was "
                "started with another master key than the one its store was sealed with")
    if isinstance(error, SQLAlchemyError):
        return "the database failed while reading: check that it is reachable and intact"
    return "see the log for the traceback"


def progress_log(every_seconds: float = 5.0) -> Callable[[int, int], None]:
    """Log a long gallery load's progress every few seconds (never per dataset)."""
    last = [time.monotonic()]

    def report(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] >= every_seconds or done == total:
            last[0] = now
            _log.info("gallery_load_progress", done=done, total=total)

    return report
