from __future__ import annotations

import datetime as dt

import pytest

from schemas.codes import AdmissionDecision, Category, Role
from service.rules.categories import (
    GROUP_ADMITTED,
    GROUP_REFUSED,
    RULES,
    category_of_group,
    rule_for,
)
from service.rules.dates import add_years, age_on, is_late, old_enough, retention_until
from service.rules.reference import reference_problem
from service.rules.responsibility import PriorEntry, months_before, responsibility_hint

STORED = {Category.TEMPORARY_PROTECTION, Category.APPLICANT, Category.IRREGULAR_CROSSING,
          Category.ILLEGAL_STAY, Category.NATIONAL_RESETTLEMENT, Category.SEARCH_AND_RESCUE}


def test_every_category_has_a_rule() -> None:
    assert set(RULES) == set(Category)


@pytest.mark.parametrize("category", list(Category))
def test_stored_categories_match_the_domain_table(category: Category) -> None:
    assert RULES[category].stored is (category in STORED)


@pytest.mark.parametrize(
    ("category", "years"),
    [(Category.APPLICANT, 10), (Category.IRREGULAR_CROSSING, 5), (Category.ILLEGAL_STAY, 5),
     (Category.SEARCH_AND_RESCUE, 5), (Category.TEMPORARY_PROTECTION, 1),
     (Category.NATIONAL_RESETTLEMENT, 5)],
)
def test_retention_years(category: Category, years: int) -> None:
    assert RULES[category].retention_years == years


def test_national_resettlement_is_only_a_target() -> None:
    assert RULES[Category.NATIONAL_RESETTLEMENT].targets is None
    assert Category.NATIONAL_RESETTLEMENT in RULES[Category.APPLICANT].targets.groups  # type: ignore[union-attr]


def test_admission_registration_searches_marked_applicants_and_resettlement_only() -> None:
    targets = RULES[Category.ADMISSION].targets
    assert targets is not None
    assert not RULES[Category.ADMISSION].stored
    assert targets.marked_only == {int(Category.APPLICANT)}
    assert targets.groups == {GROUP_ADMITTED, GROUP_REFUSED, int(Category.NATIONAL_RESETTLEMENT)}


def test_decided_admissions_are_stored_and_not_searched() -> None:
    admitted = rule_for(Category.ADMISSION, AdmissionDecision.ADMITTED)
    refused = rule_for(Category.ADMISSION, AdmissionDecision.REFUSED)
    assert (admitted.retention_years, refused.retention_years) == (5, 3)
    assert admitted.targets is None and refused.targets is None
    assert category_of_group(admitted.group or 0) is Category.ADMISSION


def test_roles() -> None:
    assert RULES[Category.LAW_ENFORCEMENT].roles == {Role.LAW_ENFORCEMENT}
    assert Role.OFFICER in RULES[Category.APPLICANT].roles
    assert Role.LAW_ENFORCEMENT not in RULES[Category.APPLICANT].roles


def test_temporary_protection_has_ten_days() -> None:
    assert RULES[Category.TEMPORARY_PROTECTION].deadline == dt.timedelta(days=10)
    assert RULES[Category.APPLICANT].deadline == dt.timedelta(hours=72)


def test_reference_numbers() -> None:
    assert reference_problem("DE1ABC", "DE", Category.APPLICANT) is None
    assert reference_problem("FR1ABC", "DE", Category.APPLICANT)
    assert reference_problem("DE2ABC", "DE", Category.APPLICANT)


def test_dates() -> None:
    assert add_years(dt.date(2024, 2, 29), 1) == dt.date(2025, 2, 28)
    assert age_on(dt.date(2000, 6, 15), dt.date(2006, 6, 14)) == 5
    assert old_enough(dt.date(2000, 6, 15), dt.date(2006, 6, 15))
    assert not old_enough(dt.date(2000, 6, 15), dt.date(2006, 6, 14))
    assert retention_until(dt.date(2026, 1, 1), 10) == dt.date(2036, 1, 1)
    taken = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    assert not is_late(taken, taken + dt.timedelta(hours=72), dt.timedelta(hours=72))
    assert is_late(taken, taken + dt.timedelta(hours=73), dt.timedelta(hours=72))


def test_months_before_clamps_to_month_end() -> None:
    assert months_before(dt.date(2026, 3, 31), 1) == dt.date(2026, 2, 28)
    assert months_before(dt.date(2026, 1, 15), 20) == dt.date(2024, 5, 15)


def _entry(state: str, category: Category, day: dt.date) -> PriorEntry:
    return PriorEntry(f"{state}{int(category)}X", state, category, day)


def test_responsibility_first_irregular_entry_within_20_months() -> None:
    applied = dt.date(2026, 11, 1)
    inside = _entry("IT", Category.IRREGULAR_CROSSING, dt.date(2025, 3, 1))
    outside = _entry("GR", Category.IRREGULAR_CROSSING, dt.date(2025, 2, 28))
    hint = responsibility_hint(applied, [inside, outside])
    assert hint is not None and hint.member_state == "IT"
    assert responsibility_hint(applied, [outside]) is None


def test_responsibility_disembarkation_within_12_months_and_earliest_wins() -> None:
    applied = dt.date(2026, 11, 1)
    landing = _entry("MT", Category.SEARCH_AND_RESCUE, dt.date(2025, 11, 1))
    crossing = _entry("HR", Category.IRREGULAR_CROSSING, dt.date(2026, 1, 1))
    hint = responsibility_hint(applied, [crossing, landing])
    assert hint is not None and (hint.member_state, hint.rule) == ("MT", "disembarkation")
    late_landing = _entry("MT", Category.SEARCH_AND_RESCUE, dt.date(2025, 10, 31))
    assert responsibility_hint(applied, [late_landing]) is None
    assert responsibility_hint(applied, [_entry("FR", Category.APPLICANT, applied)]) is None
