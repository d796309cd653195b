"""The domain's category table as data: what each category is compared against, stored, kept.

Datasets live in the gallery under a *group*: the category digit, except that admission
datasets stored after a decision (Art 18(2)) get their own groups, since a category-7 search
compares against them but a category-7 registration (Art 18(1)) is never stored.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from schemas.codes import AdmissionDecision, Category, Role

GROUP_ADMITTED = 70
GROUP_REFUSED = 71


@dataclass(frozen=True, slots=True)
class Targets:
    """Gallery groups a search compares against; `marked_only` count only when marked."""

    groups: frozenset[int]
    marked_only: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class CategoryRule:
    category: Category
    article: str
    group: int | None  # gallery group when stored, None when search only
    retention_years: int | None
    targets: Targets | None  # None: not searched on insertion
    roles: frozenset[Role]
    deadline: dt.timedelta
    needs_event: bool  # the place and date of the event are part of the dataset
    needs_birth_date: bool  # the minimum age (Art 14) must be checkable
    includes_own_data: bool  # compared with the sender's own datasets without being asked

    @property
    def stored(self) -> bool:
        return self.group is not None


_STORED_GROUPS = frozenset({0, 1, 2, 3, 8, 9, GROUP_ADMITTED, GROUP_REFUSED})
_ALL_STORED = Targets(groups=_STORED_GROUPS)
_ADMISSION_TARGETS = Targets(
    groups=frozenset({GROUP_ADMITTED, GROUP_REFUSED, int(Category.NATIONAL_RESETTLEMENT)}),
    marked_only=frozenset({int(Category.APPLICANT)}),
)
_OFFICER = frozenset({Role.OFFICER})
# Stored categories may also be loaded in bulk by operators (`POST /v1/bulk/transmissions`).
_LOADABLE = frozenset({Role.OFFICER, Role.OPERATOR})
_POLICE = frozenset({Role.LAW_ENFORCEMENT})
_72H = dt.timedelta(hours=72)


def _rule(
    category: Category,
    article: str,
    *,
    group: int | None,
    years: int | None,
    targets: Targets | None,
    roles: frozenset[Role] | None = None,
    deadline: dt.timedelta = _72H,
    person_data: bool = True,
    own: bool = False,
) -> CategoryRule:
    if roles is None:
        roles = _OFFICER if group is None else _LOADABLE
    return CategoryRule(
        category, article, group, years, targets, roles, deadline, person_data, person_data, own
    )


def _search_only(category: Category, article: str, roles: frozenset[Role]) -> CategoryRule:
    """Requests that search everything, the sender's own data included, and store nothing."""
    return _rule(category, article, group=None, years=None, targets=_ALL_STORED, roles=roles,
                 person_data=False, own=True)


RULES: dict[Category, CategoryRule] = {
    Category.APPLICANT: _rule(Category.APPLICANT, "Art 15", group=1, years=10, targets=_ALL_STORED),
    Category.IRREGULAR_CROSSING: _rule(
        Category.IRREGULAR_CROSSING, "Art 22", group=2, years=5, targets=_ALL_STORED
    ),
    Category.ILLEGAL_STAY: _rule(
        Category.ILLEGAL_STAY, "Art 23", group=3, years=5, targets=_ALL_STORED
    ),
    Category.SEARCH_AND_RESCUE: _rule(
        Category.SEARCH_AND_RESCUE, "Art 24", group=9, years=5, targets=_ALL_STORED
    ),
    Category.TEMPORARY_PROTECTION: _rule(
        Category.TEMPORARY_PROTECTION,
        "Art 26",
        group=0,
        years=1,
        targets=_ALL_STORED,
        deadline=dt.timedelta(days=10),
    ),
    Category.ADMISSION: _rule(
        Category.ADMISSION, "Art 18(1)", group=None, years=None, targets=_ADMISSION_TARGETS
    ),
    Category.NATIONAL_RESETTLEMENT: _rule(
        Category.NATIONAL_RESETTLEMENT, "Art 20", group=8, years=5, targets=None
    ),
    Category.LAW_ENFORCEMENT: _search_only(Category.LAW_ENFORCEMENT, "Art 5", _POLICE),
    Category.EUROPOL: _search_only(Category.EUROPOL, "Art 6", _POLICE),
    Category.DATA_SUBJECT_ACCESS: _search_only(Category.DATA_SUBJECT_ACCESS, "Art 43", _OFFICER),
}

_DECIDED: dict[AdmissionDecision, CategoryRule] = {
    AdmissionDecision.ADMITTED: _rule(
        Category.ADMISSION, "Art 18(2)", group=GROUP_ADMITTED, years=5, targets=None
    ),
    AdmissionDecision.REFUSED: _rule(
        Category.ADMISSION, "Art 18(2)", group=GROUP_REFUSED, years=3, targets=None
    ),
}


def rule_for(category: Category, admission_decision: AdmissionDecision | None) -> CategoryRule:
    """The rule a transmission falls under; a decided admission (Art 18(2)) is stored."""
    if category is Category.ADMISSION and admission_decision is not None:
        return _DECIDED[admission_decision]
    return RULES[category]


def category_of_group(group: int) -> Category:
    """The category digit of a gallery group (decided admissions are category 7)."""
    return Category.ADMISSION if group in (GROUP_ADMITTED, GROUP_REFUSED) else Category(group)
