"""Read the store, the source of truth, into the in-memory gallery: every dataset of the
gallery's rows, decrypted in chunks, or (reconcile) only what a loaded snapshot lacks or holds
wrongly. The order of the steps is service.gallery.startup's."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import structlog
from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.orm import Session, sessionmaker

import matcher
from service.crypto import MasterKey
from service.datasets.sealed import open_templates
from service.store.in_chunks import in_chunks
from service.store.models import DatasetRow
from service.writer.batch import entry_meta

_log = structlog.get_logger(__name__)
_CHUNK = 2_000

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Rows:
    """Which stored datasets belong to a gallery: those whose id is `part` mod `of`
    (a shard's partition); every one with the default 0 of 1."""

    part: int = 0
    of: int = 1

    def where(self) -> ColumnElement[bool]:
        return true() if self.of == 1 else DatasetRow.id % self.of == self.part


def _entries(
    session: Session, master: MasterKey, rows: Rows
) -> Iterator[tuple[int, matcher.Templates, matcher.EntryMeta]]:
    rows_read = session.scalars(
        select(DatasetRow).where(rows.where()).order_by(DatasetRow.id)
        .execution_options(yield_per=_CHUNK)
    )
    for row in rows_read:
        yield row.id, open_templates(master, row), entry_meta(row)
        session.expunge(row)  # keep memory flat over millions of rows


def load_gallery(
    sessions: sessionmaker[Session],
    master: MasterKey,
    gallery: matcher.Gallery,
    progress: Progress | None = None,
    rows: Rows = Rows(),
) -> int:
    """Add every stored dataset of `rows` to `gallery`; returns how many."""
    with sessions() as session:
        total = session.scalar(
            select(func.count()).select_from(DatasetRow).where(rows.where())) or 0
        loaded = 0
        batch: list[tuple[int, matcher.Templates, matcher.EntryMeta]] = []
        for entry in _entries(session, master, rows):
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
