"""The one startup path of an in-process gallery: an empty gallery whose templates come from
the store, then "load the encrypted snapshot or rebuild from the store, reconcile with the
store, keep snapshotting" in `start_gallery`, or the likely cause of why it could not.

`abis serve` and `abis writer` (through `Runtime`) and `abis calibrate` start their gallery
here; `abis shard` makes its partition's gallery with `store_gallery` and loads it by its index
log (service.shard.partition); an `abis api` worker holds no gallery.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

import matcher
from service.crypto import MasterKey
from service.datasets.sealed import template_source
from service.gallery.loader import Progress, Reconciled, load_or_rebuild
from service.gallery.snapshotter import Snapshotter
from service.matcher_settings import make_gallery
from service.settings import Settings

_log = structlog.get_logger(__name__)


class GalleryLoadFailed(Exception):
    """The gallery could not be loaded from the store; the message names the likely cause."""


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
