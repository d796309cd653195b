"""The running service's normalisation cohort (ABIS_SCORE_NORMALISATION=cohort).

What it is: the ABIS_COHORT_SIZE datasets with fingerprints that rank lowest under a keyed
hash of their id (ABIS_COHORT_SEED), drawn from the store at load. The rank depends on nothing
but the id and the seed, so the same gallery gives the same cohort after a restart, in the
shards' writer and in `abis calibrate`, and thresholds calibrated with it stay meaningful.

Where it lives: in the writer process, beside the gallery it normalises for, with or without
ABIS_SHARDS. A probe's statistics must come from one cohort whatever the partitioning (a
cohort per shard would give one probe several z-scores), and the writer is the one process
that sees every committed change before it is acknowledged, so an erasure reaches the cohort
in the same step as the gallery (`follow`, called from the galleries' `apply`). The shards
need no change: they take a raw threshold per request.

Erasure: a member that leaves the gallery (erased, expired) is dropped from the cohort at
once, without any I/O, so no failure of the store can keep an erased person's templates
influencing a decision; the cohort is then redrawn from the store (the next-ranked datasets
take the free places). Cohort members are never search results: the cohort only yields each
probe's mean and spread.

Searches read `cohort` (one reference, replaced whole) without a lock; draws and `follow` are
serialised, so a draw that read a dataset just before its erasure is corrected by the
erasure's `follow`, which waits for it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import numpy.typing as npt
import structlog

import matcher
from service.writer.commands import AddEntry, IndexChange, RemoveEntry

_log = structlog.get_logger(__name__)

ReadIds = Callable[[], npt.NDArray[np.int64]]
ReadTemplates = Callable[[Sequence[int]], Mapping[int, matcher.Templates]]


def ranked(ids: npt.NDArray[np.int64], seed: int, count: int) -> npt.NDArray[np.int64]:
    """The `count` ids of lowest rank (a splitmix64 hash of id and seed), lowest first."""
    if ids.size == 0 or count <= 0:
        return ids[:0]
    with np.errstate(over="ignore"):  # uint64 arithmetic wraps by design
        x = ids.astype(np.uint64) + np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        rank = x ^ (x >> np.uint64(31))
    every = count >= ids.size
    first = np.arange(ids.size) if every else np.argpartition(rank, count - 1)[:count]
    return ids[first[np.argsort(rank[first], kind="stable")]]


class CohortKeeper:
    def __init__(self, config: matcher.MatcherConfig, size: int, seed: int,
                 read_ids: ReadIds, read_templates: ReadTemplates) -> None:
        self._config = config
        self._size = size
        self._seed = seed
        self._read_ids = read_ids
        self._read_templates = read_templates
        self._held: dict[int, matcher.Templates] = {}
        self._fingerless: set[int] = set()  # ranked but without fingers: skipped, not re-read
        self._lock = threading.Lock()
        self._stale = False  # a redraw failed: retried at the next change
        self.cohort = matcher.Cohort(config, [])

    @property
    def members(self) -> frozenset[int]:
        return frozenset(self._held)

    def draw(self) -> None:
        """(Re)draw from the store: the lowest-ranked datasets with fingerprints; templates
        already held are kept, only newcomers are read and decrypted."""
        with self._lock:
            self._draw()

    def _draw(self) -> None:
        ids = self._read_ids()
        held: dict[int, matcher.Templates] = {}
        want = self._size + len(self._fingerless)
        while True:
            order = ranked(ids, self._seed, want)
            chosen = [i for i in order.tolist() if i not in self._fingerless]
            fresh = self._read_templates([i for i in chosen
                                          if i not in self._held and i not in held])
            for entry in chosen:
                templates = held.get(entry) or self._held.get(entry) or fresh.get(entry)
                if templates is None:
                    continue  # erased since the ids were read
                if templates.fingers:
                    held[entry] = templates
                else:
                    self._fingerless.add(entry)
            if len(held) >= self._size or order.size == ids.size:
                break
            want += self._size - len(held)
        self._install(dict(list(held.items())[:self._size]))
        self._stale = False
        _log.info("cohort_drawn", members=len(self._held), gallery=int(ids.size))

    def _install(self, held: dict[int, matcher.Templates]) -> None:
        self._held = held
        self.cohort = matcher.Cohort(self._config, list(held.values()))

    def follow(self, changes: Sequence[IndexChange]) -> None:
        """Committed gallery changes: a member that left is dropped now and replaced; while
        the cohort is short of its size (a young gallery), new datasets are drawn in."""
        removed = {c.dataset_id for c in changes if isinstance(c, RemoveEntry)}
        grew = any(isinstance(c, AddEntry) for c in changes)
        with self._lock:
            self._fingerless -= removed
            leaving = removed & self._held.keys()
            if leaving:
                self._install({i: t for i, t in self._held.items() if i not in leaving})
            if not (leaving or self._stale or (grew and len(self._held) < self._size)):
                return
            try:
                self._draw()
            except Exception:  # the cohort stays without them; redrawn at the next change
                self._stale = True
                _log.exception("cohort_redraw_failed", members=len(self._held))
