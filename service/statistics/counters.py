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
    # Failed access (no category: counted with NOT_APPLICABLE, by the caller's Member State,
    # "EU" or UNKNOWN_CALLER when no key authenticated).
    UNAUTHENTICATED = "access_unauthenticated"
    FORBIDDEN = "access_forbidden"
    RATE_LIMITED = "access_rate_limited"


UNKNOWN_CALLER = "--"
_REFUSALS = {401: Metric.UNAUTHENTICATED, 403: Metric.FORBIDDEN, 429: Metric.RATE_LIMITED}


def refusal_metric(status: int) -> Metric | None:
    """The failed-access statistic a refused request counts in, if any."""
    return _REFUSALS.get(status)


CounterKey = tuple[str, str, int, Metric, int]  # month, Member State, category, metric, matched


class Tally:
    """Counts gathered while a batch is processed, written as one statement at its end."""

    def __init__(self) -> None:
        self._counts: dict[CounterKey, int] = {}

    def add(self, at: dt.datetime, member_state: str, category: int, metric: Metric,
            matched_category: int = NOT_APPLICABLE, by: int = 1) -> None:
        key = (at.strftime("%Y-%m"), member_state, category, metric, matched_category)
        self._counts[key] = self._counts.get(key, 0) + by

    def write(self, session: Session) -> None:
        if not self._counts:
            return
        rows = [
            {"month": month, "member_state": state, "category": category,
             "metric": metric.value, "matched_category": matched, "count": count}
            for (month, state, category, metric, matched), count in self._counts.items()
        ]
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        statement = dialect.insert(StatisticRow)
        session.connection().execute(
            statement.on_conflict_do_update(
                index_elements=["month", "member_state", "category", "metric",
                                "matched_category"],
                set_={"count": StatisticRow.count + statement.excluded.count},
            ),
            rows,
        )
        self._counts.clear()


def bump(
    session: Session,
    at: dt.datetime,
    member_state: str,
    category: int,
    metric: Metric,
    matched_category: int = NOT_APPLICABLE,
    by: int = 1,
) -> None:
    """Count one thing now (for the rare operations that are not batched)."""
    tally = Tally()
    tally.add(at, member_state, category, metric, matched_category, by)
    tally.write(session)
