"""Dataset lifecycle on the wire: status updates, marks, erasure, notifications, statistics."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StrictBool, StringConstraints

from schemas.codes import Category, MemberState


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatasetUpdate(_Strict):
    """PATCH /v1/datasets/{reference_number} (Art 16): fields given replace the stored ones."""

    responsible_member_state: MemberState | None = None
    transfer_date: dt.date | None = None
    arrival_date: dt.date | None = None
    left_territory_date: dt.date | None = None
    removal_date: dt.date | None = None
    relocated_to: MemberState | None = None
    security_flag: StrictBool | None = None


class MarkReason(StrEnum):
    INTERNATIONAL_PROTECTION = "international_protection"  # category 1
    RESIDENCE_DOCUMENT = "residence_document"  # categories 2, 3, 9


class MarkRequest(_Strict):
    reason: MarkReason


class ErasureReason(StrEnum):
    CITIZENSHIP = "citizenship"  # Art 30: the person became an EU citizen


class ErasureRequest(_Strict):
    reason: ErasureReason


class FalseHitReport(_Strict):
    """POST /v1/hits/{id}/false: the receiving Member State found the hit wrong (Art 38(6))."""

    comment: Annotated[str, StringConstraints(max_length=500)] | None = None


class LifecycleResult(_Strict):
    reference_number: str
    marked: bool
    retention_until: dt.date
    sequence_id: int
    notified_member_states: list[MemberState]


class NotificationKind(StrEnum):
    MARKED = "marked"
    UNMARKED = "unmarked"
    ERASED = "erased"
    SECURITY_FLAG_SET = "security_flag_set"
    SECURITY_FLAG_CLEARED = "security_flag_cleared"


class NotificationView(_Strict):
    id: int
    kind: NotificationKind
    created_at: dt.datetime
    about_reference_number: str  # the dataset that changed (another Member State's)
    about_member_state: MemberState
    your_reference_numbers: list[str]  # your datasets linked to it
    reason: str | None
    acknowledged_at: dt.datetime | None


class NotificationPage(_Strict):
    notifications: list[NotificationView]


class StatisticsRow(_Strict):
    member_state: MemberState
    category: Category
    metric: str
    matched_category: Category | None
    count: int


class FailedAccessRow(_Strict):
    """Refused requests of a month: by the caller's Member State ("EU" for EU-level keys,
    "--" when no key authenticated) and why (access_unauthenticated, access_forbidden,
    access_rate_limited)."""

    member_state: str
    metric: str
    count: int


class StatisticsReport(_Strict):
    """Art 12: anonymous counts; no reference numbers."""

    month: str
    rows: list[StatisticsRow]
    failed_access: list[FailedAccessRow] = []
