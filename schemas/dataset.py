"""A stored dataset as its own Member State of origin reads it back."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict

from schemas.codes import AdmissionDecision, Category, MemberState
from schemas.transmission import Event, Person


class DatasetView(BaseModel):
    """GET /v1/datasets/{reference_number}; templates are never returned, only which are held."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reference_number: str
    member_state: MemberState
    category: Category
    person: Person
    event: Event | None
    taken_at: dt.datetime
    transmitted_at: dt.datetime
    retention_until: dt.date
    operator_user_id: str
    admission_decision: AdmissionDecision | None
    finger_positions: list[int]
    has_face: bool
    marked: bool
    sequence_id: int
    status: dict[str, object] | None = None  # status updates (Art 16), as last amended
