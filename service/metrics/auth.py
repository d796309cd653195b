"""Counting refused authentications by access point, without recording who tried what."""

from __future__ import annotations

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from service.metrics.registry import AUTH_FAILURES
from service.store.models import ApiKeyRow

UNKNOWN = "unknown"


def count_failure(member_state: str, access_point: str, reason: str) -> None:
    AUTH_FAILURES.labels(member_state, access_point, reason).inc()


def count_key_failure(sessions: sessionmaker[Session], key_id: str | None) -> None:
    """A presented key was refused: label it with the access point its id names, if any.

    Blocking (one primary-key read): call in a thread. Ids that name no key all count as
    'unknown', so guessing cannot grow the label set.
    """
    row = None
    if key_id:
        try:
            with sessions() as session:
                row = session.get(ApiKeyRow, key_id)
        except SQLAlchemyError:  # counting must never change the 401 into a 500
            row = None
    if row is None:
        count_failure(UNKNOWN, UNKNOWN, "key")
    else:
        count_failure(row.member_state, row.unit, "key")
