"""Bumping counters inside the transaction of what they count."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from service.statistics.models import StatisticRow

NOT_APPLICABLE = -1


class Metric(StrEnum):
    TRANSMITTED = "transmitted"
    HIT = "hit"  # with the matched category: the hit matrix
    HIT_ON_MARKED = "hit_on_marked"
    MARKED = "marked"
    UNMARKED = "unmarked"
    QUALITY_REREQUEST = "quality_rerequest"
    FALSE_HIT = "false_hit"
    SUBJECT_REQUEST = "subject_request"


def bump(
    session: Session,
    at: dt.datetime,
    member_state: str,
    category: int,
    metric: Metric,
    matched_category: int = NOT_APPLICABLE,
    by: int = 1,
) -> None:
    values = {
        "month": at.strftime("%Y-%m"),
        "member_state": member_state,
        "category": category,
        "metric": metric.value,
        "matched_category": matched_category,
        "count": by,
    }
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(StatisticRow).values(**values)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["month", "member_state", "category", "metric", "matched_category"],
            set_={"count": StatisticRow.count + statement.excluded.count},
        )
    )
