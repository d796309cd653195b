"""What the writer searches through and applies changes to.

The embedded default is `LocalGallery`, the in-process `matcher.Gallery`; with ABIS_SHARDS set
it is `service.shard.remote.RemoteGallery`, which fans a search out to one replica of every
partition. Both answer a batch of probes with their outcomes, plus (remote only) which replica
and epoch answered each partition, for the audit.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import matcher
from service.writer.cohort import CohortKeeper
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
               limit: int | None = None, min_seq: int = 0,
               prepared: matcher.PreparedBatch | None = None) -> Searched:
        """Hits of every probe over the whole gallery as of `min_seq`; GalleryUnavailable
        rather than an answer from part of it. `prepared`: the probes as the writer prepared
        them once for the batch (`matcher.prepare_batch`, this gallery's config), which a
        gallery in this process uses instead of preparing them again; a remote one ignores
        it (its replicas prepare what they receive)."""
        ...

    def apply(self, changes: Sequence[IndexChange], after: int, upto: int | None) -> None:
        """Make committed changes (the index log after `after` up to `upto`) searchable;
        removals and marks everywhere before this returns. Never raises for a replica that
        misses them: it cannot answer a search before it has read them from the log."""
        ...

    def close(self) -> None: ...


class RawSearch(Protocol):
    def __call__(self, probes: Sequence[matcher.Templates],
                 eligibles: Sequence[matcher.Eligibility], *, finger_threshold: float,
                 face_threshold: float | None, limit: int | None, min_seq: int) -> Searched: ...


def normalised_search(cohort: CohortKeeper, raw: RawSearch, probes: Sequence[matcher.Templates],
                      eligibles: Sequence[matcher.Eligibility], *, finger_z: float,
                      face_threshold: float | None, limit: int | None, min_seq: int
                      ) -> Searched:
    """A search deciding fingerprints at cohort z >= `finger_z` (matcher.search_normalised's
    rule): one raw search at the lowest of the probes' raw thresholds, then each probe keeps
    the hits that reach its own, scored in z. Exact wherever the raw search is: hits are
    threshold-defined, and with a `limit` a probe's best by raw score are its best by z."""
    if not probes:
        return raw(probes, eligibles, finger_threshold=finger_z, face_threshold=face_threshold,
                   limit=limit, min_seq=min_seq)
    held = cohort.cohort  # one cohort for the whole batch, even if a redraw replaces it now
    means, sds = held.statistics(probes)
    searched = raw(probes, eligibles, finger_threshold=float((means + finger_z * sds).min()),
                   face_threshold=face_threshold, limit=limit, min_seq=min_seq)
    return dataclasses.replace(
        searched, outcomes=held.normalise(searched.outcomes, means, sds, finger_z))


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

    def __init__(self, gallery: matcher.Gallery, cohort: CohortKeeper | None = None) -> None:
        self.inner = gallery
        self.cohort = cohort  # ABIS_SCORE_NORMALISATION=cohort

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
               limit: int | None = None, min_seq: int = 0,
               prepared: matcher.PreparedBatch | None = None) -> Searched:
        raw = self._raw if prepared is None else functools.partial(self._raw, prepared=prepared)
        if self.cohort is not None:
            return normalised_search(
                self.cohort, raw, probes, eligibles,
                finger_z=(self.config.finger_threshold if finger_threshold is None
                          else finger_threshold),
                face_threshold=face_threshold, limit=limit, min_seq=min_seq)
        return raw(probes, eligibles, finger_threshold=finger_threshold,
                   face_threshold=face_threshold, limit=limit, min_seq=min_seq)

    def _raw(self, probes: Sequence[matcher.Templates],
             eligibles: Sequence[matcher.Eligibility], *, finger_threshold: float | None,
             face_threshold: float | None, limit: int | None, min_seq: int,
             prepared: matcher.PreparedBatch | None = None) -> Searched:
        return Searched(self.inner.search_many(
            probes, eligibles, finger_threshold=finger_threshold,
            face_threshold=face_threshold, limit=limit, prepared=prepared))

    def apply(self, changes: Sequence[IndexChange], after: int, upto: int | None) -> None:
        apply_to(self.inner, changes)
        if self.cohort is not None:
            self.cohort.follow(changes)  # an erased member leaves the cohort before the ack

    def set_thresholds(self, finger_threshold: float, face_threshold: float) -> None:
        self.inner.set_thresholds(finger_threshold, face_threshold)

    def close(self) -> None:
        pass
