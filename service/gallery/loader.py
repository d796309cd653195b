"""Fill the in-memory gallery from the store, the source of truth: from an encrypted snapshot
reconciled with the store when one is usable, else by decrypting every dataset in chunks."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import structlog
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

import matcher
from service.crypto import MasterKey
from service.datasets.sealed import open_templates
from service.gallery.snapshot import SnapshotError, load_snapshot
from service.store.in_chunks import in_chunks
from service.store.models import DatasetRow
from service.writer.batch import entry_meta

_log = structlog.get_logger(__name__)
_CHUNK = 2_000

Progress = Callable[[int, int], None]


def _entries(
    session: Session, master: MasterKey
) -> Iterator[tuple[int, matcher.Templates, matcher.EntryMeta]]:
    rows = session.scalars(
        select(DatasetRow).order_by(DatasetRow.id).execution_options(yield_per=_CHUNK)
    )
    for row in rows:
        yield row.id, open_templates(master, row), entry_meta(row)
        session.expunge(row)  # keep memory flat over millions of rows


def load_gallery(
    sessions: sessionmaker[Session],
    master: MasterKey,
    gallery: matcher.Gallery,
    progress: Progress | None = None,
) -> int:
    """Add every stored dataset to `gallery`; returns how many."""
    with sessions() as session:
        total = session.scalar(select(func.count()).select_from(DatasetRow)) or 0
        loaded = 0
        batch: list[tuple[int, matcher.Templates, matcher.EntryMeta]] = []
        for entry in _entries(session, master):
            batch.append(entry)
            if len(batch) == _CHUNK:
                loaded += gallery.add_many(batch)
                batch.clear()
                if progress:
                    progress(loaded, total)
        loaded += gallery.add_many(batch)
        if progress:
            progress(loaded, total)
    _log.info("gallery_loaded", datasets=loaded)
    return loaded


@dataclass(frozen=True, slots=True)
class Reconciled:
    """What startup did beyond loading the snapshot."""

    from_snapshot: int
    removed: int
    added: int
    marks_fixed: int

    @property
    def changes(self) -> int:
        """Gallery changes beyond the snapshot: what the next snapshot must save."""
        return self.removed + self.added + self.marks_fixed


def reconcile(
    sessions: sessionmaker[Session],
    master: MasterKey,
    gallery: matcher.Gallery,
    progress: Progress | None = None,
) -> tuple[int, int, int]:
    """Make the gallery hold exactly the store's datasets and marks; decrypts only the datasets
    the gallery lacks. Returns (removed, added, marks fixed)."""
    with sessions() as session:
        pairs = session.execute(select(DatasetRow.id, DatasetRow.marked)).all()
    store_ids = np.fromiter((p[0] for p in pairs), dtype=np.int64, count=len(pairs))
    store_marked = np.fromiter((bool(p[1]) for p in pairs), dtype=np.bool_, count=len(pairs))
    held_ids, held_marked = gallery.entries()
    stale = np.setdiff1d(held_ids, store_ids, assume_unique=True)
    for entry_id in stale.tolist():
        gallery.remove(entry_id)
    common, in_store, in_gallery = np.intersect1d(
        store_ids, held_ids, assume_unique=True, return_indices=True
    )
    wrong = store_marked[in_store] != held_marked[in_gallery]
    for entry_id, marked in zip(common[wrong].tolist(), store_marked[in_store][wrong].tolist(),
                                strict=True):
        gallery.set_marked(entry_id, marked)
    missing = np.setdiff1d(store_ids, held_ids, assume_unique=True).tolist()
    added = 0
    with sessions() as session:
        for chunk in in_chunks(missing):
            rows = session.scalars(select(DatasetRow).where(DatasetRow.id.in_(chunk)))
            added += gallery.add_many(
                (row.id, open_templates(master, row), entry_meta(row)) for row in rows
            )
            session.expunge_all()
            if progress:
                progress(added, len(missing))
    return len(stale), added, int(wrong.sum())


def load_or_rebuild(
    sessions: sessionmaker[Session],
    master: MasterKey,
    gallery: matcher.Gallery,
    snapshot: Path | None,
    progress: Progress | None = None,
) -> Reconciled:
    """Startup: the snapshot reconciled with the store if it is usable, else a full rebuild."""
    started = time.monotonic()
    if snapshot is not None and not snapshot.exists():
        _log.info("gallery_snapshot_absent", path=str(snapshot))  # a first start: rebuild
    elif snapshot is not None:
        try:
            held = load_snapshot(snapshot, master, gallery)
        except SnapshotError as error:
            _log.warning("gallery_snapshot_unusable", reason=str(error))
        else:
            _log.info("gallery_snapshot_loaded", datasets=held,
                      seconds=round(time.monotonic() - started, 2))
            removed, added, marks = reconcile(sessions, master, gallery, progress)
            _log.info("gallery_reconciled", removed=removed, added=added, marks_fixed=marks,
                      seconds=round(time.monotonic() - started, 2))
            return Reconciled(held, removed, added, marks)
    loaded = load_gallery(sessions, master, gallery, progress)
    return Reconciled(0, 0, loaded, 0)
