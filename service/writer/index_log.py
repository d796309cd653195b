"""The index log and the writer's epoch in the database.

Every gallery change is a log row written in the transaction that made it, so the store and
the log never disagree, and a shard can always catch up by itself from its last sequence.
Each batch transaction first reads the epoch row FOR UPDATE: a writer whose epoch is no longer
the current one (another took over) fails before writing anything.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from service.errors import WriterFenced
from service.writer.commands import AddEntry, IndexChange, MarkEntry, RemoveEntry
from service.writer.models import IndexLogRow, WriterEpochRow

ADD, REMOVE, MARK = "add", "remove", "mark"


@dataclass(frozen=True, slots=True)
class LoggedChange:
    """A log row as a shard replays it (templates are read from the store for adds)."""

    seq: int
    op: str
    dataset_id: int
    marked: bool


def current_epoch(session: Session) -> int:
    return int(session.scalar(select(WriterEpochRow.epoch).where(WriterEpochRow.id == 1)) or 0)


def committed_seq(session: Session) -> int:
    return int(session.scalar(select(func.max(IndexLogRow.seq))) or 0)


def _row(epoch: int, change: IndexChange, partitions: int, now: dt.datetime
         ) -> dict[str, object]:
    op = ADD if isinstance(change, AddEntry) else REMOVE if isinstance(change, RemoveEntry) \
        else MARK
    marked = change.marked if isinstance(change, MarkEntry) else (
        change.meta.marked if isinstance(change, AddEntry) else False)
    return {"epoch": epoch, "op": op, "dataset_id": change.dataset_id,
            "partition": change.dataset_id % partitions, "marked": marked, "created_at": now}


def append(session: Session, epoch: int | None, changes: Sequence[IndexChange],
           partitions: int, now: dt.datetime) -> int | None:
    """Check that `epoch` still holds the lease (None: no lease, tests and benchmarks), then log
    `changes` in order; the last sequence written, or None when there were none."""
    if epoch is not None:
        held = session.scalar(select(WriterEpochRow.epoch).where(WriterEpochRow.id == 1)
                              .with_for_update())
        if held != epoch:
            raise WriterFenced(f"writer epoch {epoch} was superseded by epoch {held}")
    if not changes:
        return None
    seqs = session.execute(
        insert(IndexLogRow).returning(IndexLogRow.seq, sort_by_parameter_order=True),
        [_row(epoch or 0, change, partitions, now) for change in changes],
    ).scalars().all()
    return int(seqs[-1])


def read_since(session: Session, after: int, partition: int, partitions: int, *,
               upto: int | None = None, limit: int = 10_000) -> list[LoggedChange]:
    """The log of one partition after sequence `after` (up to `upto`), in order."""
    query = (select(IndexLogRow.seq, IndexLogRow.op, IndexLogRow.dataset_id, IndexLogRow.marked)
             .where(IndexLogRow.seq > after, IndexLogRow.dataset_id % partitions == partition)
             .order_by(IndexLogRow.seq).limit(limit))
    if upto is not None:
        query = query.where(IndexLogRow.seq <= upto)
    return [LoggedChange(int(seq), str(op), int(dataset_id), bool(marked))
            for seq, op, dataset_id, marked in session.execute(query)]
