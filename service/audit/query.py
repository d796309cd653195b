"""Supervisors' reading of the audit log: filters, pages, export, per-dataset history.

A national supervisory authority sees the events that involve its Member State (as actor or
as the holder of a dataset concerned); the EU-level supervisor sees all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, replace

import orjson
from sqlalchemy import Exists, Select, exists, func, select
from sqlalchemy.orm import Session

from schemas.audit import AuditCheckpointView, AuditEventView
from schemas.codes import EU_LEVEL
from service.audit.models import AuditCheckpointRow, AuditEventRow, AuditSubjectRow
from service.auth import Caller
from service.clock import as_utc
from service.errors import Forbidden

MAX_PAGE = 1000


@dataclass(frozen=True, slots=True)
class EventFilter:
    member_state: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    operation: str | None = None
    reference_number: str | None = None
    actor_key_id: str | None = None
    after: int = 0
    limit: int = 100


def scoped(caller: Caller, wanted: EventFilter) -> EventFilter:
    """The filter a supervisor may apply: a national one only within its Member State (the
    role itself is checked by `service.auth.policy`)."""
    if caller.member_state == EU_LEVEL:
        return wanted
    if wanted.member_state not in (None, caller.member_state):
        raise Forbidden(f"a supervisor of {caller.member_state} sees its own Member State only")
    return replace(wanted, member_state=caller.member_state)


def _subject(kind: str, value: str) -> Select[int]:
    return select(AuditSubjectRow.seq).where(
        AuditSubjectRow.kind == kind, AuditSubjectRow.value == value
    )


def _has_subject(kind: str, value: str) -> Exists:
    return exists().where(AuditSubjectRow.seq == AuditEventRow.seq,
                          AuditSubjectRow.kind == kind, AuditSubjectRow.value == value)


def _statement(wanted: EventFilter) -> Select[AuditEventRow]:
    """Events in sequence order. Query plans, measured on 1,011,758 events (SQLite): a Member
    State is a subject of a large share of all events, so it is checked per event (EXISTS)
    rather than as a list of every event naming it; a reference number names few, so that list
    drives. `since` also bounds the sequence (the first event at or after it), so a recent
    window does not walk the whole log: 4.5 s -> a few ms for the last five minutes."""
    statement = select(AuditEventRow).where(AuditEventRow.seq > wanted.after)
    if wanted.member_state:
        statement = statement.where(_has_subject("ms", wanted.member_state))
    if wanted.reference_number:
        statement = statement.where(
            AuditEventRow.seq.in_(_subject("rn", wanted.reference_number))
        )
    if wanted.since:
        # The first event of the window, from the (at, seq) index alone; past the last event
        # if none. `seq + 0`: a bare min(seq) makes SQLite walk the primary key from the
        # start of the log until `at` matches (0.3-5 s on a million events).
        first = select(func.min(AuditEventRow.seq + 0)).where(AuditEventRow.at >= wanted.since)
        end = select(func.max(AuditEventRow.seq) + 1)
        bound = func.coalesce(first.scalar_subquery(), end.scalar_subquery(), 0)
        statement = statement.where(AuditEventRow.at >= wanted.since,
                                    AuditEventRow.seq >= bound)
    if wanted.until:
        statement = statement.where(AuditEventRow.at < wanted.until)
    if wanted.operation:
        statement = statement.where(AuditEventRow.operation == wanted.operation)
    if wanted.actor_key_id:
        statement = statement.where(AuditEventRow.actor_key_id == wanted.actor_key_id)
    return statement.order_by(AuditEventRow.seq)


def view(row: AuditEventRow) -> AuditEventView:
    return AuditEventView(
        seq=row.seq,
        at=as_utc(row.at),
        hash=row.hash,
        prev_hash=row.prev_hash,
        body_hash=row.body_hash,
        purged=row.body is None,
        event=None if row.body is None else orjson.loads(row.body),
    )


def page(session: Session, wanted: EventFilter) -> tuple[list[AuditEventView], int | None]:
    limit = max(1, min(wanted.limit, MAX_PAGE))
    rows = list(session.scalars(_statement(wanted).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return [view(row) for row in rows], rows[-1].seq if more else None


def export_lines(session: Session, wanted: EventFilter, public_key: str) -> Iterator[bytes]:
    """JSON Lines: a header, every matching event, then the signed checkpoints after the first."""
    yield orjson.dumps({"format": "abis-audit-export/1", "public_key": public_key}) + b"\n"
    first: int | None = None
    after = wanted.after
    while True:
        events, _ = page(session, replace(wanted, after=after, limit=MAX_PAGE))
        if not events:
            break
        first = events[0].seq if first is None else first
        for event in events:
            yield orjson.dumps({"event": event.model_dump(mode="json")}) + b"\n"
        after = events[-1].seq
    checkpoints = session.scalars(
        select(AuditCheckpointRow)
        .where(AuditCheckpointRow.seq >= (first or 0))
        .order_by(AuditCheckpointRow.seq)
    )
    for checkpoint in checkpoints:
        proof = checkpoint_view(checkpoint)
        yield orjson.dumps({"checkpoint": proof.model_dump(mode="json")}) + b"\n"


def checkpoint_view(row: AuditCheckpointRow) -> AuditCheckpointView:
    return AuditCheckpointView(
        seq=row.seq,
        hash=row.hash,
        at=as_utc(row.at),
        public_key=row.public_key,
        signature=row.signature,
    )


def latest_checkpoint(session: Session) -> AuditCheckpointView | None:
    """The last signed checkpoint (supervisors only): what to verify an export against."""
    row = session.scalars(
        select(AuditCheckpointRow).order_by(AuditCheckpointRow.seq.desc(),
                                            AuditCheckpointRow.id.desc()).limit(1)
    ).first()
    return None if row is None else checkpoint_view(row)
