"""Pruning the index log without making any replica miss a change.

A replica needs the log only after some sequence: a restarted shard loads its snapshot and
replays from the snapshot's sequence; a running one catches up from the sequence it has
applied. So each replica reports that sequence (`report`, from the shard), and the writer
deletes the rows at or below the lowest report, always keeping the newest `keep` rows (the
retention floor; at least one, so the committed sequence -- the highest `seq` -- never goes
back). The pruned horizon is recorded in the same transaction as the deletion.

A replica whose report is older than `max_age` no longer holds the log back (a replica taken
away for good must not keep it for ever). If it comes back below the horizon it cannot
replay: it rebuilds its partition from the store instead (service/shard/partition.py). The
shard checks the horizon *after* reading the log rows, in the same session: a pruning that
committed in between is then seen, so rows it deleted are never silently skipped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from service.periodic import Periodic
from service.writer.models import IndexLogRow, LogHorizonRow, ReplicaReportRow

_log = structlog.get_logger(__name__)
_DELETE_CHUNK = 50_000  # rows per transaction: a first pruning of a long log stays short


@dataclass(frozen=True, slots=True)
class Pruning:
    """One pruning pass: the horizon before and after, rows deleted, and what bounded it."""

    before: int
    through: int
    deleted: int
    bound: str  # "replicas" (their lowest report) or "floor" (the newest `keep` rows)


def pruned_through(session: Session) -> int:
    return int(session.scalar(select(LogHorizonRow.pruned_through)
                              .where(LogHorizonRow.id == 1)) or 0)


def report(session: Session, replica: str, partition: int, partitions: int, needs_after: int,
           now: dt.datetime) -> None:
    """Record that `replica` may still need the log rows after `needs_after`."""
    row = session.get(ReplicaReportRow, replica)
    if row is None:
        session.add(ReplicaReportRow(replica=replica, partition=partition, partitions=partitions,
                                     needs_after=needs_after, reported_at=now))
    else:
        row.partition, row.partitions = partition, partitions
        row.needs_after, row.reported_at = needs_after, now


def horizon(session: Session, keep: int, max_age: dt.timedelta, now: dt.datetime
            ) -> tuple[int, str]:
    """The sequence through which rows may go, and what bounds it."""
    committed = int(session.scalar(select(func.max(IndexLogRow.seq))) or 0)
    floor = committed - keep
    lowest = session.scalar(select(func.min(ReplicaReportRow.needs_after))
                            .where(ReplicaReportRow.reported_at >= now - max_age))
    if lowest is not None and int(lowest) < floor:
        return int(lowest), "replicas"
    return max(0, floor), "floor"


def prune(sessions: sessionmaker[Session], keep: int, max_age: dt.timedelta, now: dt.datetime
          ) -> Pruning:
    """Delete the rows no replica needs, chunk by chunk (each its own transaction)."""
    if keep < 1:
        raise ValueError("keep at least the newest log row")
    with sessions() as session:
        before = pruned_through(session)
        target, bound = horizon(session, keep, max_age, now)
    through, deleted = before, 0
    while through < target:
        step = min(target, through + _DELETE_CHUNK)
        with sessions.begin() as session:
            gone = session.execute(delete(IndexLogRow).where(IndexLogRow.seq <= step))
            deleted += int(gone.rowcount or 0)  # type: ignore[attr-defined]
            session.execute(update(LogHorizonRow).where(LogHorizonRow.id == 1)
                            .values(pruned_through=step, pruned_at=now))
        through = step
    return Pruning(before, through, deleted, bound)


class LogPruner:
    """Prunes the index log every `interval` seconds, in the writer (the lease holder)."""

    def __init__(self, sessions: sessionmaker[Session], keep: int, max_age: dt.timedelta,
                 interval: float, now: Callable[[], dt.datetime]) -> None:
        self._sessions = sessions
        self._keep, self._max_age = keep, max_age
        self._now = now
        self.last: Pruning | None = None
        # The database may be away for a while: a failed round is logged, the next one runs.
        self._periodic = Periodic("abis-log-pruner", interval, self.prune_once,
                                  "index_log_prune_failed")

    def start(self) -> None:
        self._periodic.start()

    def stop(self) -> None:
        self._periodic.stop()

    def prune_once(self) -> Pruning:
        pruning = prune(self._sessions, self._keep, self._max_age, self._now())
        self.last = pruning
        if pruning.deleted:
            _log.info("index_log_pruned", through=pruning.through, deleted=pruning.deleted,
                      bound=pruning.bound)
        return pruning
