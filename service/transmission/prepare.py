"""Step one of a transmission: apply the rules, decode and check templates, seal the dataset.

Everything here runs before the comparison and may refuse the transmission; nothing is
written, so a refused transmission changes nothing (the quality refusal count aside).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import matcher
from schemas.codes import Category, MemberState
from schemas.transmission import TransmissionRequest
from service.auth import Caller
from service.crypto import MasterKey, Sealed, seal
from service.errors import CategoryNotAllowed, InsufficientQuality, RuleViolation
from service.rules.categories import CategoryRule, rule_for
from service.rules.dates import (
    MAXIMUM_AGE_YEARS,
    is_late,
    old_enough,
    plausible_age,
    retention_until,
)
from service.rules.reference import reference_problem
from service.store.payload import DatasetPayload, encode_payload
from service.transmission.eligibility import eligibility_for, member_state_index
from service.transmission.templates import checked_templates, decode_biometrics


@dataclass(frozen=True, slots=True)
class PreparedTransmission:
    request: TransmissionRequest
    caller: Caller
    rule: CategoryRule
    templates: matcher.Templates
    eligibility: matcher.Eligibility | None  # None: not compared on insertion
    transmitted_at: dt.datetime
    retention_until: dt.date | None
    late: bool
    sealed: Sealed | None  # the encrypted dataset, when its category is stored

    @property
    def member_state(self) -> str:
        return self.caller.member_state

    @property
    def reference_number(self) -> str:
        return self.request.reference_number


def dataset_identity(reference_number: str, member_state: str, category: int) -> bytes:
    """Associated data binding a ciphertext to its dataset."""
    return f"abis:dataset:{reference_number}:{member_state}:{category}".encode()


def check_rules(
    request: TransmissionRequest, caller: Caller, now: dt.datetime, skew: dt.timedelta
) -> CategoryRule:
    """The category rule that applies; raises when the transmission breaks one."""
    rule = rule_for(request.category, request.admission_decision)
    if caller.role not in rule.roles or caller.member_state not in MemberState.__members__:
        raise CategoryNotAllowed(
            f"role {caller.role.value} of {caller.member_state} may not transmit "
            f"category {int(request.category)}"
        )
    problem = reference_problem(request.reference_number, caller.member_state, request.category)
    if problem:
        raise RuleViolation(problem, field="reference_number")
    if request.admission_decision is not None and request.category is not Category.ADMISSION:
        raise RuleViolation("admission_decision applies to category 7 only")
    police = request.category in (Category.LAW_ENFORCEMENT, Category.EUROPOL)
    if police and not (request.purpose and request.case_number):
        raise RuleViolation("law-enforcement searches need a purpose and a case number")
    taken_at = request.taken_at
    if taken_at.tzinfo is None:
        raise RuleViolation("taken_at needs a time zone offset", field="taken_at")
    if taken_at > now + skew:
        raise RuleViolation("taken_at is in the future", field="taken_at")
    if rule.needs_event and request.event is None:
        raise RuleViolation(f"category {int(request.category)} needs the event's place and date")
    if request.event is not None and request.event.date > (now + skew).date():
        raise RuleViolation("the event date is in the future", field="event.date")
    birth = request.person.date_of_birth
    if rule.needs_birth_date and birth is None:
        raise RuleViolation("person.date_of_birth is needed to check the minimum age (Art 14)")
    if birth is not None and not plausible_age(birth, taken_at.date()):
        raise RuleViolation(f"person.date_of_birth is not plausible: over {MAXIMUM_AGE_YEARS} "
                            "years before the biometrics were taken", field="person.date_of_birth")
    if birth is not None and not old_enough(birth, taken_at.date()):
        raise RuleViolation("biometrics are taken from persons aged 6 or over only (Art 14)")
    return rule


def _quality_gate(templates: matcher.Templates, report: matcher.QualityReport) -> None:
    """Poor captures are refused with a reason so the sender retransmits (Art 38(1))."""
    if templates.fingers and not report.usable_fingers:
        raise InsufficientQuality(
            "no fingerprint is of usable quality; retake them and retransmit with the same "
            "reference number (send none only when fingerprints cannot be taken)",
            poor_fingers=list(report.poor_fingers),
        )
    if not report.searchable:
        raise InsufficientQuality(
            "the facial image is not of usable quality; retake it and retransmit with the "
            "same reference number"
        )


def prepare(
    request: TransmissionRequest,
    caller: Caller,
    *,
    now: dt.datetime,
    skew: dt.timedelta,
    config: matcher.MatcherConfig,
    master: MasterKey,
) -> PreparedTransmission:
    rule = check_rules(request, caller, now, skew)
    fingers, face = decode_biometrics(request.biometrics, config)
    templates, report = checked_templates(fingers, face, config)
    _quality_gate(templates, report)
    sealed = None
    until = None
    if rule.stored:
        assert rule.retention_years is not None
        until = retention_until(now.date(), rule.retention_years)
        details = request.model_dump(mode="json", exclude={"biometrics", "reference_number"})
        sealed = seal(
            master,
            dataset_identity(request.reference_number, caller.member_state, request.category),
            encode_payload(DatasetPayload(details, fingers, face)),
        )
    eligibility = None
    if rule.targets is not None:
        own = rule.includes_own_data or request.compare_own_data
        eligibility = eligibility_for(
            rule.targets, None if own else member_state_index(caller.member_state)
        )
    return PreparedTransmission(
        request=request,
        caller=caller,
        rule=rule,
        templates=templates,
        eligibility=eligibility,
        transmitted_at=now,
        retention_until=until,
        late=is_late(request.taken_at, now, rule.deadline),
        sealed=sealed,
    )
