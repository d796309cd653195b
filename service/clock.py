"""Time comes from one injectable clock, so tests move it instead of sleeping."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


def as_utc(moment: dt.datetime) -> dt.datetime:
    """SQLite returns naive datetimes even for timezone-aware columns; everything stored is UTC."""
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


@dataclass
class Clock:
    """UTC now, shifted by `offset` (tests and what-if runs of the retention sweeper)."""

    offset: dt.timedelta = dt.timedelta(0)

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.offset
