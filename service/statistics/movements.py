"""Secondary movements as anonymous counts: hits between two different Member States.

A hit means a person whose dataset Member State A holds turned up in a transmission from
Member State B; counting those hits per (A, B) shows the flows the system exists to reveal
without naming anyone. False hits (Art 38(6)) are left out.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from schemas.codes import Category
from schemas.oversight import MovementFlow, MovementsReport
from service.store.models import HitRow


def _start_of(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def movements(session: Session, since: dt.date, until: dt.date,
              category: Category | None = None) -> MovementsReport:
    """Flows between Member States revealed by hits from `since` up to (not including) `until`."""
    origin, destination = HitRow.matched_member_state, HitRow.probe_member_state
    statement = (
        select(origin, destination, func.count())
        .where(HitRow.created_at >= _start_of(since), HitRow.created_at < _start_of(until),
               HitRow.false_hit.is_(False), origin != destination)
        .group_by(origin, destination)
        .order_by(func.count().desc(), origin, destination)
    )
    if category is not None:
        statement = statement.where(HitRow.probe_category == int(category))
    flows = [MovementFlow(origin=a, destination=b, count=n)
             for a, b, n in session.execute(statement)]
    return MovementsReport(since=since, until=until, category=category, flows=flows)
