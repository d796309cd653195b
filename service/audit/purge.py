"""Retention of the audit log: an event is purged one year after the retention of the data it
concerns ends. Purging blanks the event's content and subjects but keeps its place in the chain
(sequence number, hashes, time), so the chain stays verifiable."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from service.audit.models import AuditEventRow, AuditPurgeGrantRow, AuditSubjectRow


def purge_expired(session: Session, today: dt.date) -> int:
    """Blank every event whose `purge_after` is before `today`; returns how many."""
    due = select(AuditEventRow.seq).where(
        AuditEventRow.purge_after < today, AuditEventRow.body.is_not(None)
    )
    grant = AuditPurgeGrantRow(purge_before=today)
    session.add(grant)
    session.flush()  # the triggers look for the grant
    session.execute(delete(AuditSubjectRow).where(AuditSubjectRow.seq.in_(due)))
    result = session.execute(
        update(AuditEventRow)
        .where(AuditEventRow.purge_after < today, AuditEventRow.body.is_not(None))
        .values(body=None, operation=None, actor_member_state=None, actor_key_id=None)
        .execution_options(synchronize_session=False)
    )
    session.delete(grant)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
