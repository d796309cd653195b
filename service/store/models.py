"""Tables. Personal data and templates live only inside `DatasetRow.ciphertext`.

In clear are only what the rules, the index and access control need: reference number, Member
State of origin, category/group, transmission time, retention date, mark, sequence.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL wants BIGINT for millions.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    pass


class DatasetRow(Base):
    __tablename__ = "datasets"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    reference_number: Mapped[str] = mapped_column(String(30), unique=True)
    member_state: Mapped[str] = mapped_column(String(2), index=True)
    category: Mapped[int] = mapped_column(SmallInteger)
    gallery_group: Mapped[int] = mapped_column(SmallInteger)
    transmitted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    retention_until: Mapped[dt.date] = mapped_column(Date, index=True)
    marked: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    sequence_id: Mapped[int] = mapped_column(BigInteger, index=True)
    key_id: Mapped[str] = mapped_column(String(16))
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    nonce: Mapped[bytes] = mapped_column(LargeBinary)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)


class HitRow(Base):
    """One hit, kept for linking, false-hit reports and statistics (no personal data)."""

    __tablename__ = "hits"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    probe_dataset_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("datasets.id", ondelete="SET NULL"), index=True
    )
    probe_reference_number: Mapped[str] = mapped_column(String(30))
    probe_member_state: Mapped[str] = mapped_column(String(2))
    probe_category: Mapped[int] = mapped_column(SmallInteger)
    matched_dataset_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("datasets.id", ondelete="SET NULL"), index=True
    )
    matched_member_state: Mapped[str] = mapped_column(String(2))
    matched_category: Mapped[int] = mapped_column(SmallInteger)
    score: Mapped[float] = mapped_column(Float)
    modality: Mapped[str] = mapped_column(String(12))
    false_hit: Mapped[bool] = mapped_column(Boolean, default=False)


class QualityRefusalRow(Base):
    """A transmission refused for quality: the sender must retransmit (Art 38(1) statistic)."""

    __tablename__ = "quality_refusals"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    reference_number: Mapped[str] = mapped_column(String(30), index=True)
    member_state: Mapped[str] = mapped_column(String(2))
    category: Mapped[int] = mapped_column(SmallInteger)


class ApiKeyRow(Base):
    """An access point's key; only a SHA-256 of its secret is stored."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    secret_sha256: Mapped[str] = mapped_column(String(64))
    member_state: Mapped[str] = mapped_column(String(2))
    unit: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
