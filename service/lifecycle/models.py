"""Notifications: what a Member State must be told about datasets linked to its own."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.store.models import Base, BigId


class NotificationRow(Base):
    """Something a Member State must be told about a dataset linked to one of its own."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    recipient: Mapped[str] = mapped_column(String(2), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    about_reference_number: Mapped[str] = mapped_column(String(30))
    about_member_state: Mapped[str] = mapped_column(String(2))
    recipient_reference_numbers: Mapped[str] = mapped_column(Text)  # space-separated
    reason: Mapped[str | None] = mapped_column(String(60))
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
