"""The writer's tables: the index log shards catch up from, and the writer's epoch.

Only ids, operations and marks are in clear here; templates stay in `datasets.ciphertext`.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, DateTime, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from service.store.models import Base, BigId


class IndexLogRow(Base):
    """One change of the gallery, written in the transaction that made it: `seq` orders them."""

    __tablename__ = "index_log"

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    epoch: Mapped[int] = mapped_column(BigInteger)
    op: Mapped[str] = mapped_column(String(8))  # add | remove | mark
    dataset_id: Mapped[int] = mapped_column(BigInteger)
    partition: Mapped[int] = mapped_column(Integer)  # dataset_id mod the writer's partitions
    marked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class WriterEpochRow(Base):
    """One row: the epoch of the writer holding the lease; every takeover increments it."""

    __tablename__ = "writer_epoch"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    epoch: Mapped[int] = mapped_column(BigInteger)
    taken_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class ReplicaReportRow(Base):
    """What one shard replica may still need of the index log: the rows after `needs_after`
    (the sequence of its last written snapshot; without one, the sequence it has applied).
    The writer prunes the log below the lowest report (see service/writer/log_pruning.py)."""

    __tablename__ = "index_log_replicas"

    replica: Mapped[str] = mapped_column(String(200), primary_key=True)  # p/P@host:port
    partition: Mapped[int] = mapped_column(Integer)
    partitions: Mapped[int] = mapped_column(Integer)
    needs_after: Mapped[int] = mapped_column(BigInteger)
    reported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class LogHorizonRow(Base):
    """One row: every index-log row with `seq <= pruned_through` has been deleted."""

    __tablename__ = "index_log_horizon"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    pruned_through: Mapped[int] = mapped_column(BigInteger)
    pruned_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
