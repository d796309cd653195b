"""Telling Member States what the rules say they must be told, and their feed."""

from __future__ import annotations

import datetime as dt
from itertools import groupby

from sqlalchemy import select
from sqlalchemy.orm import Session

from schemas.lifecycle import NotificationKind, NotificationView
from service.auth import Caller
from service.clock import as_utc
from service.errors import NotFound
from service.lifecycle.access import linked_datasets
from service.lifecycle.models import NotificationRow
from service.store.models import DatasetRow


def notify_linked(
    session: Session, row: DatasetRow, kind: NotificationKind, now: dt.datetime,
    reason: str | None = None,
) -> list[str]:
    """One notification per Member State holding a dataset linked to `row`; their states."""
    linked = sorted(linked_datasets(session, row), key=lambda other: other.member_state)
    recipients = []
    for state, datasets in groupby(linked, key=lambda other: other.member_state):
        session.add(
            NotificationRow(
                recipient=state,
                kind=kind.value,
                created_at=now,
                about_reference_number=row.reference_number,
                about_member_state=row.member_state,
                recipient_reference_numbers=" ".join(d.reference_number for d in datasets),
                reason=reason,
                acknowledged_at=None,
            )
        )
        recipients.append(state)
    return recipients


def view(row: NotificationRow) -> NotificationView:
    return NotificationView(
        id=row.id,
        kind=NotificationKind(row.kind),
        created_at=as_utc(row.created_at),
        about_reference_number=row.about_reference_number,
        about_member_state=row.about_member_state,
        your_reference_numbers=row.recipient_reference_numbers.split(),
        reason=row.reason,
        acknowledged_at=None if row.acknowledged_at is None else as_utc(row.acknowledged_at),
    )


def feed(
    session: Session, caller: Caller, pending_only: bool, limit: int
) -> list[NotificationView]:
    statement = select(NotificationRow).where(NotificationRow.recipient == caller.member_state)
    if pending_only:
        statement = statement.where(NotificationRow.acknowledged_at.is_(None))
    rows = session.scalars(statement.order_by(NotificationRow.id).limit(limit))
    return [view(row) for row in rows]


def acknowledge(session: Session, notification_id: int, caller: Caller, now: dt.datetime
                ) -> NotificationView:
    row = session.get(NotificationRow, notification_id)
    if row is None or row.recipient != caller.member_state:
        raise NotFound(f"no notification {notification_id} for {caller.member_state}")
    if row.acknowledged_at is None:
        row.acknowledged_at = now
    return view(row)
