"""Rebuild the in-memory gallery from the store, the source of truth, in streamed chunks."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import structlog
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

import matcher
from service.crypto import MasterKey
from service.store.models import DatasetRow
from service.transmission.process import entry_meta
from service.transmission.stored import open_payload
from service.transmission.templates import to_templates

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
        payload = open_payload(master, row)
        yield row.id, to_templates(payload.fingers, payload.face), entry_meta(row)
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
