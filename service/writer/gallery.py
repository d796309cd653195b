"""What the writer searches through and applies changes to.

The embedded default is `LocalGallery`, the in-process `matcher.Gallery`; with ABIS_SHARDS set
it is `service.shard.remote.RemoteGallery`, which fans a search out to one replica of every
partition. Both answer a batch of probes with their outcomes, plus (remote only) which replica
and epoch answered each partition, for the audit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import matcher
from service.writer.commands import AddEntry, IndexChange, MarkEntry, RemoveEntry


@dataclass(frozen=True, slots=True)
class Answered:
    """One partition's part of a search: which replica answered, under which writer epoch."""

    partition: int
    replica: str
    epoch: int


@dataclass(frozen=True, slots=True)
class Searched:
    outcomes: list[matcher.SearchOutcome]
    coverage: tuple[Answered, ...] = ()  # empty in the embedded default (one process)
    committed_seq: int | None = None


class WriterGallery(Protocol):
    @property
    def config(self) -> matcher.MatcherConfig: ...

    @property
    def partitions(self) -> int: ...

    def __len__(self) -> int: ...

    def search(self, probes: Sequence[matcher.Templates],
               eligibles: Sequence[matcher.Eligibility], *,
               finger_threshold: float | None = None, face_threshold: float | None = None,
               limit: int | None = None, min_seq: int = 0) -> Searched:
        """Hits of every probe over the whole gallery as of `min_seq`; GalleryUnavailable
        rather than an answer from part of it."""
        ...

    def apply(self, changes: Sequence[IndexChange], after: int, upto: int | None) -> None:
        """Make committed changes (the index log after `after` up to `upto`) searchable;
        removals and marks everywhere before this returns. Never raises for a replica that
        misses them: it cannot answer a search before it has read them from the log."""
        ...

    def close(self) -> None: ...


def apply_to(gallery: matcher.Gallery, changes: Sequence[IndexChange]) -> None:
    """Apply changes in order; idempotent (an add already held, or a removal of an entry not
    held, is skipped), so a replayed log converges. Consecutive adds go in one add_many."""
    pending: list[tuple[int, matcher.Templates, matcher.EntryMeta]] = []

    def flush() -> None:
        if pending:
            gallery.add_many(pending)
            pending.clear()

    for change in changes:
        if isinstance(change, AddEntry):
            if change.dataset_id not in gallery:
                pending.append((change.dataset_id, change.templates, change.meta))
            continue
        flush()
        if change.dataset_id not in gallery:
            continue
        if isinstance(change, RemoveEntry):
            gallery.remove(change.dataset_id)
        elif isinstance(change, MarkEntry):
            gallery.set_marked(change.dataset_id, change.marked)
    flush()


class LocalGallery:
    """The embedded default: the gallery lives in this process."""

    def __init__(self, gallery: matcher.Gallery) -> None:
        self.inner = gallery

    @property
    def config(self) -> matcher.MatcherConfig:
        return self.inner.config

    @property
    def partitions(self) -> int:
        return 1

    def __len__(self) -> int:
        return len(self.inner)

    def search(self, probes: Sequence[matcher.Templates],
               eligibles: Sequence[matcher.Eligibility], *,
               finger_threshold: float | None = None, face_threshold: float | None = None,
               limit: int | None = None, min_seq: int = 0) -> Searched:
        return Searched(self.inner.search_many(
            probes, eligibles, finger_threshold=finger_threshold,
            face_threshold=face_threshold, limit=limit))

    def apply(self, changes: Sequence[IndexChange], after: int, upto: int | None) -> None:
        apply_to(self.inner, changes)

    def close(self) -> None:
        pass
