"""Reading a stored dataset back: the Member State of origin only (Art 40)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from schemas.dataset import DatasetView
from schemas.transmission import Event, Person
from service.auth import Caller
from service.clock import as_utc
from service.crypto import MasterKey
from service.datasets.sealed import open_payload
from service.errors import NotFound
from service.store.models import DatasetRow


def read_dataset(sessions: sessionmaker[Session], master: MasterKey, reference_number: str,
                 caller: Caller) -> DatasetView:
    """Another Member State's dataset answers as a missing one does: existence must not leak."""
    with sessions() as session:
        row = session.scalar(
            select(DatasetRow).where(DatasetRow.reference_number == reference_number)
        )
        if row is None or row.member_state != caller.member_state:
            raise NotFound(f"no dataset {reference_number} of {caller.member_state}")
        payload = open_payload(master, row)
    details = payload.details
    return DatasetView(
        reference_number=row.reference_number,
        member_state=row.member_state,
        category=row.category,
        person=Person.model_validate(details["person"]),
        event=None if details["event"] is None else Event.model_validate(details["event"]),
        taken_at=details["taken_at"],
        transmitted_at=as_utc(row.transmitted_at),
        retention_until=row.retention_until,
        operator_user_id=details["operator_user_id"],
        admission_decision=details.get("admission_decision"),
        finger_positions=sorted(payload.fingers),
        has_face=payload.face is not None,
        marked=row.marked,
        sequence_id=row.sequence_id,
        status=details.get("status"),
    )
