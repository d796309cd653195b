"""The audit event filter against a literal reading of it, on events whose times do not follow
their sequence numbers (a clock stepped back): the time window's sequence bound is only an
optimisation and must never drop or add an event."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from service.audit.models import AuditEventRow, AuditSubjectRow
from service.audit.query import EventFilter, _statement
from service.store.models import Base

T0 = dt.datetime(2026, 11, 24, 8, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def session() -> Iterator[Session]:
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    rng = random.Random(4)
    with Session(engine) as session:
        for seq in range(1, 301):
            # Mostly increasing, with steps back of up to 3 minutes.
            at = T0 + dt.timedelta(seconds=seq * 2 - (180 if rng.random() < 0.1 else 0))
            session.add(AuditEventRow(seq=seq, at=at, operation="dataset:transmit",
                                      purge_after=dt.date(2040, 1, 1), body_hash="h",
                                      prev_hash="p", hash="h"))
            session.add(AuditSubjectRow(seq=seq, kind="ms", value=rng.choice(["IT", "DE"])))
        session.commit()
        yield session


def _literal(session: Session, wanted: EventFilter) -> list[int]:
    states = {s.seq: s.value for s in session.query(AuditSubjectRow)}
    return [e.seq for e in session.query(AuditEventRow).order_by(AuditEventRow.seq)
            if e.seq > wanted.after
            and (wanted.member_state is None or states[e.seq] == wanted.member_state)
            and (wanted.since is None or e.at.replace(tzinfo=dt.UTC) >= wanted.since)
            and (wanted.until is None or e.at.replace(tzinfo=dt.UTC) < wanted.until)]


@pytest.mark.parametrize("minutes", [-5, 0, 3, 5, 9, 30])
@pytest.mark.parametrize("state", [None, "IT"])
def test_a_time_window_returns_exactly_its_events(session: Session, minutes: int,
                                                  state: str | None) -> None:
    since = T0 + dt.timedelta(minutes=minutes)
    for wanted in (EventFilter(member_state=state, since=since),
                   EventFilter(member_state=state, since=since,
                               until=since + dt.timedelta(minutes=2)),
                   EventFilter(member_state=state, since=since, after=150)):
        found = [row.seq for row in session.scalars(_statement(wanted))]
        assert found == _literal(session, wanted)
