"""What the comparison and storage of one transmission produced, before it becomes an answer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from schemas.codes import Category


@dataclass(frozen=True, slots=True)
class MatchedDataset:
    """A dataset that hit, with the facts the answer and the rules need."""

    hit_id: int
    dataset_id: int
    reference_number: str
    member_state: str
    category: Category
    marked: bool
    taken_at: dt.datetime
    transmitted_at: dt.datetime
    event_date: dt.date | None
    score: float
    modality: str
    fingers_compared: int
    retention_until: dt.date
    details: Mapping[str, Any]  # the dataset's identity data: for data-subject access only


@dataclass(frozen=True, slots=True)
class TransmissionOutcome:
    matches: tuple[MatchedDataset, ...]
    dataset_id: int | None  # set when stored
    sequence_id: int | None
