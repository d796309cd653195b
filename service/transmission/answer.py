"""Turn a transmission's outcome into the answer the Member State receives (Art 27(4))."""

from __future__ import annotations

from schemas.codes import Category, HitResult, Modality
from schemas.transmission import (
    Event,
    HeldDataset,
    HitView,
    Person,
    Responsibility,
    SecondaryMovement,
    TransmissionResult,
)
from service.rules.responsibility import PriorEntry, responsibility_hint
from service.transmission.outcome import MatchedDataset, TransmissionOutcome
from service.transmission.prepare import PreparedTransmission


def _hit_view(match: MatchedDataset) -> HitView:
    return HitView(
        hit_id=match.hit_id,
        reference_number=match.reference_number,
        member_state=match.member_state,
        category=match.category,
        taken_at=match.taken_at,
        transmitted_at=match.transmitted_at,
        event_date=match.event_date,
        marked=match.marked,
        score=round(match.score, 6),
        modality=Modality(match.modality),
        fingers_compared=match.fingers_compared,
    )


def _secondary_movement(
    job: PreparedTransmission, matches: tuple[MatchedDataset, ...]
) -> SecondaryMovement | None:
    elsewhere = [match for match in matches if match.member_state != job.member_state]
    if not elsewhere:
        return None
    return SecondaryMovement(
        member_states=sorted({match.member_state for match in elsewhere}),
        first_seen=min(match.event_date or match.taken_at.date() for match in elsewhere),
    )


def _responsibility(
    job: PreparedTransmission, matches: tuple[MatchedDataset, ...]
) -> Responsibility | None:
    if job.request.category is not Category.APPLICANT or job.request.event is None:
        return None
    hint = responsibility_hint(
        job.request.event.date,
        (
            PriorEntry(m.reference_number, m.member_state, m.category, m.event_date)
            for m in matches
            if m.event_date is not None
        ),
    )
    if hint is None:
        return None
    return Responsibility(
        member_state=hint.member_state,
        rule=hint.rule,
        article=hint.article,
        basis_reference_number=hint.basis_reference_number,
    )


def _data_held(matches: tuple[MatchedDataset, ...]) -> list[HeldDataset]:
    return [
        HeldDataset(
            member_state=match.member_state,
            reference_number=match.reference_number,
            category=match.category,
            person=Person.model_validate(match.details.get("person") or {}),
            event=None if not match.details.get("event") else Event.model_validate(
                match.details["event"]),
            taken_at=match.taken_at,
            transmitted_at=match.transmitted_at,
        )
        for match in matches
    ]


def build_answer(job: PreparedTransmission, outcome: TransmissionOutcome) -> TransmissionResult:
    matches = outcome.matches
    subject_access = job.request.category is Category.DATA_SUBJECT_ACCESS
    return TransmissionResult(
        reference_number=job.reference_number,
        result=HitResult.HIT if matches else HitResult.NO_HIT,
        stored=outcome.dataset_id is not None,
        hits=[_hit_view(match) for match in matches],
        sequence_id=outcome.sequence_id,
        secondary_movement=_secondary_movement(job, matches),
        responsibility=_responsibility(job, matches),
        verification_required=any(match.modality == Modality.FACE for match in matches),
        late=job.late,
        transmitted_at=job.transmitted_at,
        retention_until=job.retention_until,
        data_held=_data_held(matches) if subject_access else None,
    )
