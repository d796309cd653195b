"""Finding a dataset its caller may change, and the datasets linked to it by hits."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.auth import Caller
from service.errors import NotFound
from service.store.models import DatasetRow


def own_dataset(session: Session, reference_number: str, caller: Caller) -> DatasetRow:
    """Only the Member State of origin may amend, mark or erase (Art 40(3)); to anyone else the
    dataset does not exist."""
    row = session.scalar(select(DatasetRow).where(DatasetRow.reference_number == reference_number))
    if row is None or row.member_state != caller.member_state:
        raise NotFound(f"no dataset {reference_number} of {caller.member_state}")
    return row


def linked_datasets(session: Session, row: DatasetRow) -> list[DatasetRow]:
    """Other Member States' datasets in the same sequence (linked by hits, Art 3(6))."""
    return list(
        session.scalars(
            select(DatasetRow).where(
                DatasetRow.sequence_id == row.sequence_id,
                DatasetRow.id != row.id,
                DatasetRow.member_state != row.member_state,
            ).order_by(DatasetRow.id)
        )
    )
