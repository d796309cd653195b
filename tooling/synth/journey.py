"""Journeys: the encounters of one synthetic person with the Member States, in time order.

A person comes in one way (rescued at sea, apprehended at the external border, admitted for
resettlement, arriving by air, fleeing to temporary protection), often applies where they
arrive, and often moves on: an application or an apprehension for illegal stay in another
Member State, sometimes a third one. Those later encounters are what hits reveal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from schemas.codes import AdmissionDecision, Category
from tooling.synth.names import Entry, Nationality

DESTINATIONS: tuple[tuple[str, float], ...] = (
    ("DE", 0.3), ("FR", 0.15), ("ES", 0.06), ("IT", 0.06), ("AT", 0.06), ("NL", 0.06),
    ("BE", 0.06), ("SE", 0.04), ("CH", 0.04), ("GR", 0.03), ("IE", 0.03), ("PL", 0.03),
    ("DK", 0.02), ("NO", 0.02), ("FI", 0.02), ("PT", 0.02),
)
TEMPORARY_PROTECTION: tuple[tuple[str, float], ...] = (
    ("DE", 0.4), ("PL", 0.2), ("CZ", 0.15), ("IT", 0.05), ("ES", 0.05), ("NL", 0.05),
    ("AT", 0.05), ("IE", 0.05),
)
_EASTERN = {"GR", "CY", "BG", "RO", "FI", "LT", "LV", "EE"}
_WESTERN = {"PT", "IE", "IS"}


def utc_offset(member_state: str) -> dt.timezone:
    """Standard time of the Member State (daylight saving ignored)."""
    if member_state in _EASTERN:
        return dt.timezone(dt.timedelta(hours=2))
    if member_state in _WESTERN:
        return dt.UTC
    return dt.timezone(dt.timedelta(hours=1))


@dataclass(frozen=True, slots=True)
class Step:
    member_state: str
    category: Category
    taken_at: dt.datetime
    admission_decision: AdmissionDecision | None = None


def pick(rng: np.random.Generator, weighted: Sequence[tuple[str, float]]) -> str:
    weights = np.array([weight for _, weight in weighted])
    return weighted[int(rng.choice(len(weighted), p=weights / weights.sum()))][0]


def _pick_entry(rng: np.random.Generator, nationality: Nationality) -> Entry:
    weights = np.array([entry.weight for entry in nationality.entries])
    return nationality.entries[int(rng.choice(len(weights), p=weights / weights.sum()))]


def _elsewhere(
    rng: np.random.Generator, weighted: Sequence[tuple[str, float]], not_in: set[str]
) -> str:
    choices = [(code, weight) for code, weight in weighted if code not in not_in]
    return pick(rng, choices or weighted)


def journey(
    rng: np.random.Generator, nationality: Nationality, start: dt.date, end: dt.date
) -> list[Step]:
    """The person's encounters between `start` and `end`, first one included, time ordered."""
    span = (end - start).days
    first = start + dt.timedelta(days=int(rng.integers(0, max(span - 14, 1))))
    entry = _pick_entry(rng, nationality)
    plan: list[tuple[str, Category, int, AdmissionDecision | None]] = []
    here = pick(rng, entry.member_states)
    day = 0

    def then(member_state: str, category: Category, gap: tuple[int, int],
             decision: AdmissionDecision | None = None) -> None:
        nonlocal day
        day += int(rng.integers(*gap))
        plan.append((member_state, category, day, decision))

    if entry.category is Category.ADMISSION:
        if rng.random() < 0.3:
            then(here, Category.NATIONAL_RESETTLEMENT, (0, 1))
        else:
            admitted = rng.random() < 0.85
            then(here, Category.ADMISSION, (0, 1),
                 AdmissionDecision.ADMITTED if admitted else AdmissionDecision.REFUSED)
    elif entry.category is Category.TEMPORARY_PROTECTION:
        then(here, Category.TEMPORARY_PROTECTION, (0, 1))
        if rng.random() < 0.25:
            then(_elsewhere(rng, TEMPORARY_PROTECTION, {here}), Category.TEMPORARY_PROTECTION,
                 (20, 300))
        if rng.random() < 0.05:
            then(_elsewhere(rng, DESTINATIONS, {here}), Category.ILLEGAL_STAY, (30, 300))
    else:
        then(here, entry.category, (0, 1))
        if entry.category is not Category.APPLICANT and rng.random() < 0.35:
            then(here, Category.APPLICANT, (1, 10))
        visited = {here}
        moves = 1 if rng.random() < 0.6 else 0
        moves += 1 if moves and rng.random() < 0.2 else 0
        for _ in range(moves):
            there = _elsewhere(rng, DESTINATIONS, visited)
            visited.add(there)
            category = Category.APPLICANT if rng.random() < 0.8 else Category.ILLEGAL_STAY
            then(there, category, (15, 240))
        if entry.category is Category.IRREGULAR_CROSSING and rng.random() < 0.05:
            then(here, Category.IRREGULAR_CROSSING, (20, 200))  # caught crossing again
    steps = []
    for member_state, category, offset, decision in plan:
        date = first + dt.timedelta(days=offset)
        if date > end:
            break
        moment = dt.datetime.combine(date, dt.time(int(rng.integers(7, 20)),
                                                   int(rng.integers(0, 60))))
        steps.append(Step(member_state, category, moment.replace(tzinfo=utc_offset(member_state)),
                          decision))
    return steps
