"""Statistics counters (Art 12)."""

from __future__ import annotations

from sqlalchemy import Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from service.store.models import Base


class StatisticRow(Base):
    """A monthly counter (Art 12), bumped in the transaction of what it counts, so erasing data
    later does not rewrite history. `matched_category` is -1 where it does not apply."""

    __tablename__ = "statistics"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    member_state: Mapped[str] = mapped_column(String(2), primary_key=True)
    category: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    metric: Mapped[str] = mapped_column(String(30), primary_key=True)
    matched_category: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
