"""One partition of the gallery (dataset_id mod P) as a shard holds it.

`applied` is the index-log sequence up to which every change of this partition is in the
gallery. It only moves forward, under `_lock`, together with the gallery: from pushed changes
(when they continue exactly where the partition is), or from the database's log (catch-up,
reading and decrypting the stored templates of added datasets). A search carrying a `min_seq`
the partition has not reached catches up first (a few rows, inline) or is refused (`Behind`)
while a background catch-up runs: never an answer from a partition that misses a change.

Startup (`ReplayLog`, run by service.gallery.startup like every gallery's): the encrypted
partition snapshot (tagged with its sequence) if usable, else every stored dataset of the
partition (the committed sequence read first); then the log from there.

The log is pruned (service/writer/log_pruning.py) below what the replicas report they need:
this replica reports the sequence of its snapshot on disk (without one, what it has applied).
A snapshot older than the pruned horizon is not replayed: the partition is rebuilt from the
store. So is a running replica that finds, reading the log, that rows it needs were pruned
(its report was too old to count): it refuses searches ("loading") until rebuilt.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import structlog
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

import matcher
from service.crypto import MasterKey
from service.datasets.sealed import open_templates
from service.gallery.loader import Progress, Rows, load_gallery
from service.gallery.snapshot import SnapshotError, read_snapshot, write_state
from service.gallery.startup import StartOver, open_gallery, rebuild_gallery
from service.store.in_chunks import in_chunks
from service.store.models import DatasetRow
from service.writer import index_log, log_pruning
from service.writer.batch import entry_meta
from service.writer.commands import AddEntry, IndexChange, MarkEntry, RemoveEntry
from service.writer.gallery import apply_to
from service.writer.models import IndexLogRow

_log = structlog.get_logger(__name__)
_LOG_CHUNK = 5_000


class Behind(Exception):
    """This replica has not applied the log up to the search's sequence yet."""


class StaleEpoch(Exception):
    """The request comes from a writer whose epoch was superseded."""


class Pruned(StartOver):
    """Log rows this replica needs were pruned: it must rebuild its partition from the store."""


@dataclass
class _Snapshots:
    path: Path
    every: int
    seconds: float
    changes: int = 0
    dirty_since: float | None = None
    last_removal: float | None = None


class Partition:
    def __init__(
        self, partition: int, partitions: int, gallery: matcher.Gallery,
        sessions: sessionmaker[Session], master: MasterKey, *, snapshot: Path | None = None,
        snapshot_every: int = 100_000, snapshot_seconds: float = 3600.0,
        inline_catch_up: int = 2_000, replica: str | None = None,
        report_seconds: float = 60.0,
    ) -> None:
        if not 0 <= partition < partitions:
            raise ValueError(f"partition must be in 0..{partitions - 1}")
        self.partition, self.partitions = partition, partitions
        self.gallery = gallery
        self._sessions = sessions
        self._master = master
        self.applied = 0
        self.epoch = 0
        self.known = 0  # the highest sequence a writer told us about
        self.ready = threading.Event()
        self._lock = threading.RLock()  # changes and `applied` move together
        self._epoch_lock = threading.Lock()
        self._inline = inline_catch_up  # log rows a search may wait for; beyond, it is refused
        self._snapshots = (None if snapshot is None
                           else _Snapshots(snapshot, snapshot_every, snapshot_seconds))
        self.replica = replica or f"{partition}/{partitions}"
        self.snapshot_seq: int | None = None  # the sequence of our snapshot on disk
        self.snapshot_at: float | None = None  # when it was written or loaded (time.time())
        self.rebuilds = 0
        self._report_seconds = report_seconds
        self._reported: tuple[int, float] | None = None  # (needs_after, monotonic time)
        self._rebuild = threading.Event()

    # -- fencing ----------------------------------------------------------------------------

    def admit(self, epoch: int) -> None:
        """Refuse a superseded writer; a newer epoch becomes the one to beat."""
        with self._epoch_lock:
            if epoch < self.epoch:
                raise StaleEpoch(f"epoch {epoch} < {self.epoch}")
            self.epoch = epoch

    # -- load -------------------------------------------------------------------------------

    def load(self, progress: Progress | None = None) -> None:
        """Start the partition the way every gallery starts (service.gallery.startup)."""
        open_gallery(ReplayLog(self, progress))

    def _empty_gallery(self) -> matcher.Gallery:
        old = self.gallery
        return matcher.Gallery(old.config, index=old.kind.value, fast=old.fast_params,
                               source=old.source)

    # -- changes ----------------------------------------------------------------------------

    def apply(self, after: int, upto: int, changes: Sequence[IndexChange]) -> None:
        """A pushed batch: applied if it continues where we are, else read from the log."""
        self.known = max(self.known, upto)
        with self._lock:
            if self.applied >= upto:
                return  # already there (a replayed push)
            if self.applied == after:
                self._change(changes)
                self.applied = upto
                return
        # Pruned: we stay behind (searches are refused) until the follower has rebuilt us.
        with contextlib.suppress(Pruned):
            self.catch_up(upto)

    def catch_up(self, upto: int | None) -> int:
        """Apply the log after `applied` (up to `upto`, else to the committed sequence).

        Pruned (and a rebuild is due) if rows after `applied` were pruned: the horizon is read
        after the rows, so a pruning that committed meanwhile is seen."""
        done = 0
        with self._lock:
            while True:
                with self._sessions() as session:
                    target = upto if upto is not None else index_log.committed_seq(session)
                    if self.applied >= target:
                        return done
                    logged = index_log.read_since(session, self.applied, self.partition,
                                                  self.partitions, upto=target,
                                                  limit=_LOG_CHUNK)
                    if log_pruning.pruned_through(session) > self.applied:
                        self._rebuild.set()
                        raise Pruned(f"the log was pruned past sequence {self.applied}")
                    self._change(self._changes_of(session, logged))
                done += len(logged)
                self.applied = logged[-1].seq if len(logged) == _LOG_CHUNK else target

    def _changes_of(self, session: Session, logged: Sequence[index_log.LoggedChange]
                    ) -> list[IndexChange]:
        added = sorted({row.dataset_id for row in logged if row.op == index_log.ADD})
        stored: dict[int, AddEntry] = {}
        for chunk in in_chunks(added):
            for row in session.scalars(select(DatasetRow).where(DatasetRow.id.in_(chunk))):
                stored[row.id] = AddEntry(row.id, open_templates(self._master, row),
                                          entry_meta(row))
        changes: list[IndexChange] = []
        for change in logged:
            if change.op == index_log.ADD:
                if change.dataset_id in stored:  # else erased since: a later row removes it
                    changes.append(stored[change.dataset_id])
            elif change.op == index_log.REMOVE:
                changes.append(RemoveEntry(change.dataset_id))
            else:
                changes.append(MarkEntry(change.dataset_id, change.marked))
        return changes

    def _change(self, changes: Sequence[IndexChange]) -> None:
        if not changes:
            return
        apply_to(self.gallery, changes)
        if self._snapshots is not None:
            snaps = self._snapshots
            snaps.changes += len(changes)
            now = time.monotonic()
            snaps.dirty_since = snaps.dirty_since or now
            if any(isinstance(change, RemoveEntry) for change in changes):
                snaps.last_removal = now

    # -- search -----------------------------------------------------------------------------

    def lag(self, min_seq: int) -> int:
        """How many log rows of this partition lie between `applied` and `min_seq`."""
        with self._sessions() as session:
            return int(session.scalar(
                select(func.count()).select_from(IndexLogRow).where(
                    IndexLogRow.seq > self.applied, IndexLogRow.seq <= min_seq,
                    IndexLogRow.dataset_id % self.partitions == self.partition)) or 0)

    def ensure(self, min_seq: int) -> None:
        """Catch up to `min_seq` inline if it is a few rows away; else refuse (Behind) and let
        the background follower do it."""
        self.known = max(self.known, min_seq)
        if self.applied >= min_seq:
            return
        if self._rebuild.is_set() or self.lag(min_seq) > self._inline:
            raise Behind(f"applied {self.applied} < {min_seq}")
        try:
            self.catch_up(min_seq)
        except Pruned as error:
            raise Behind(str(error)) from None

    # -- background: follow the log, write snapshots ----------------------------------------

    def follow_once(self) -> None:
        if self._rebuild.is_set():
            self.rebuild()
        if self.ready.is_set() and self.applied < self.known:
            try:
                self.catch_up(self.known)
            except Pruned:
                self.rebuild()
        if self._snapshots is not None and self._snapshot_due():
            self.save()
        self._report(self.needs_after())

    def rebuild(self) -> None:
        """Reload the partition from the store (the log no longer reaches back to us);
        searches are refused meanwhile."""
        _log.warning("partition_rebuilding", partition=self.partition, applied_seq=self.applied)
        self.ready.clear()
        with self._lock:
            self._rebuild.clear()
            self.snapshot_seq = None
            # A new gallery object: a search still holding the old one sees it swapped and is
            # refused (ShardService), instead of answering from a half-loaded one.
            self.gallery = self._empty_gallery()
            rebuild_gallery(ReplayLog(self))
        self.rebuilds += 1
        self.ready.set()
        _log.info("partition_rebuilt", partition=self.partition, datasets=len(self.gallery),
                  applied_seq=self.applied)

    def needs_after(self) -> int:
        """The log this replica may still need: after its snapshot on disk (a restart replays
        from there), else after what it has applied."""
        return self.applied if self.snapshot_seq is None else min(self.snapshot_seq,
                                                                    self.applied)

    def _report(self, needs_after: int) -> None:
        now = time.monotonic()
        if self._reported is not None and self._reported[0] == needs_after and (
                now - self._reported[1] < self._report_seconds):
            return
        with self._sessions.begin() as session:
            log_pruning.report(session, self.replica, self.partition, self.partitions,
                               needs_after, dt.datetime.now(dt.UTC))
        self._reported = (needs_after, now)

    def _snapshot_due(self) -> bool:
        snaps = self._snapshots
        if snaps is None or not snaps.changes:
            return False
        now = time.monotonic()
        if snaps.last_removal is not None and now - snaps.last_removal >= 5.0:
            return True  # an erased dataset does not outlive its erasure on disk for long
        if snaps.every and snaps.changes >= snaps.every:
            return True
        return bool(snaps.seconds) and snaps.dirty_since is not None and (
            now - snaps.dirty_since >= snaps.seconds)

    def save(self) -> None:
        """Write the encrypted partition snapshot, tagged with its sequence."""
        if self._snapshots is None:
            return
        with self._lock:
            state, seq = self.gallery.export_state(), self.applied
            self._snapshots.changes = 0
            self._snapshots.dirty_since = self._snapshots.last_removal = None
        count = write_state(self._snapshots.path, state, self._master, seq=seq)
        self.snapshot_seq, self.snapshot_at = seq, time.time()
        _log.info("partition_snapshot_written", datasets=count, applied_seq=seq)
        self._report(self.needs_after())


class ReplayLog:
    """How a partition starts (the steps are service.gallery.startup's): its snapshot if the
    log still reaches back to the snapshot's sequence, else the stored datasets of its partition
    (the committed sequence read first: the log covers the rest); then the log from there."""

    def __init__(self, partition: Partition, progress: Progress | None = None) -> None:
        self._part, self._progress = partition, progress

    def snapshot(self) -> int | None:
        part = self._part
        snaps = part._snapshots
        if snaps is None or not snaps.path.exists():
            return None
        try:
            state, seq = read_snapshot(snaps.path, part._master)
            if seq is None:
                raise SnapshotError("the snapshot is not a shard's (no sequence)")
            with part._sessions() as session:
                horizon = log_pruning.pruned_through(session)
            if seq < horizon:
                raise SnapshotError(f"the log was pruned through {horizon}, past the "
                                    f"snapshot's sequence {seq}: rebuilding from the store")
            part.gallery.load_state(state)
        except (SnapshotError, ValueError, KeyError) as error:
            _log.warning("partition_snapshot_unusable", reason=str(error))
            return None
        part.snapshot_seq, part.snapshot_at = seq, snaps.path.stat().st_mtime
        _log.info("partition_snapshot_loaded", datasets=len(part.gallery), applied_seq=seq)
        part._report(seq)
        return seq

    def build(self) -> int:
        part = self._part
        if len(part.gallery):
            part.gallery = part._empty_gallery()
        with part._sessions() as session:
            seq = index_log.committed_seq(session)  # before reading: the log covers the rest
        part._report(seq)  # before the long read: the rows after `seq` stay for us
        load_gallery(part._sessions, part._master, part.gallery, self._progress,
                     Rows(part.partition, part.partitions))
        return seq

    def catch_up(self, seq: int) -> None:
        part = self._part
        with part._lock:
            part.applied = seq
        part.catch_up(None)

    def ready(self, result: None) -> None:
        part = self._part
        part.ready.set()
        _log.info("partition_ready", partition=part.partition, datasets=len(part.gallery),
                  applied_seq=part.applied)
