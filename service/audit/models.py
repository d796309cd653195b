"""Audit tables. An event's content is its canonical JSON `body`; the other content columns are
copies for filtering. `body_hash`, `prev_hash` and `hash` chain the events; a purged event keeps
only those (and its time), so the chain stays verifiable after retention ends.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Date, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.store.models import Base, BigId


class AuditEventRow(Base):
    __tablename__ = "audit_events"
    # (at, seq): the first event of a time window is found in the index alone (query.py).
    __table_args__ = (Index("ix_audit_events_at_seq", "at", "seq"),)

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    operation: Mapped[str | None] = mapped_column(String(40), index=True)
    actor_member_state: Mapped[str | None] = mapped_column(String(2), index=True)
    actor_key_id: Mapped[str | None] = mapped_column(String(24), index=True)
    purge_after: Mapped[dt.date] = mapped_column(Date, index=True)
    body: Mapped[str | None] = mapped_column(Text)
    body_hash: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditSubjectRow(Base):
    """What an event concerns, for the "who touched this dataset" and per-Member State views."""

    __tablename__ = "audit_subjects"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    seq: Mapped[int] = mapped_column(BigInteger, ForeignKey("audit_events.seq"), index=True)
    kind: Mapped[str] = mapped_column(String(2))  # "rn" reference number, "ms" Member State
    value: Mapped[str] = mapped_column(String(30), index=True)


class AuditCheckpointRow(Base):
    """A signed statement that the chain had `hash` at `seq`."""

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    seq: Mapped[int] = mapped_column(BigInteger, index=True)
    hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    public_key: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(128))


class AuditPurgeGrantRow(Base):
    """Present only inside a retention purge's transaction: what the triggers let it blank."""

    __tablename__ = "audit_purge_grants"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    purge_before: Mapped[dt.date] = mapped_column(Date)
