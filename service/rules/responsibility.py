"""Hints at the Member State responsible for an application (Regulation (EU) 2024/1351 Art 33).

The Member State of first irregular entry (category 2) is responsible for an application lodged
within 20 months of the crossing; the Member State of disembarkation after search and rescue
(category 9) within 12 months. Where several qualify, the earliest entry counts.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from schemas.codes import Category

_WINDOW_MONTHS = {Category.IRREGULAR_CROSSING: 20, Category.SEARCH_AND_RESCUE: 12}
_RULE_NAMES = {
    Category.IRREGULAR_CROSSING: "first_irregular_entry",
    Category.SEARCH_AND_RESCUE: "disembarkation",
}


@dataclass(frozen=True, slots=True)
class PriorEntry:
    """What a hit tells about an earlier registration."""

    reference_number: str
    member_state: str
    category: Category
    event_date: dt.date


@dataclass(frozen=True, slots=True)
class ResponsibilityHint:
    member_state: str
    rule: str
    article: str
    basis_reference_number: str


def months_before(day: dt.date, months: int) -> dt.date:
    """`day` moved back by whole months, clamped to the end of a shorter month."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def responsibility_hint(
    application_date: dt.date, prior: Iterable[PriorEntry]
) -> ResponsibilityHint | None:
    """The hint for an application lodged on `application_date`, from its hits."""
    qualifying = [
        entry
        for entry in prior
        if entry.category in _WINDOW_MONTHS
        and months_before(application_date, _WINDOW_MONTHS[entry.category])
        <= entry.event_date
        <= application_date
    ]
    if not qualifying:
        return None
    first = min(qualifying, key=lambda entry: (entry.event_date, entry.reference_number))
    return ResponsibilityHint(
        member_state=first.member_state,
        rule=_RULE_NAMES[first.category],
        article="Regulation (EU) 2024/1351 Art 33",
        basis_reference_number=first.reference_number,
    )
