"""What a batch records besides datasets and hits: its statistics (Art 12) and each
transmission's audit event (with, when the gallery is sharded, the search's coverage)."""

from __future__ import annotations

import datetime as dt

from schemas.codes import Category
from service.audit.events import AuditEvent, finish
from service.errors import ServiceError
from service.rules.categories import category_of_group
from service.statistics.counters import Metric, Tally
from service.transmission.batch_store import Plan
from service.transmission.outcome import TransmissionOutcome
from service.writer.commands import Transmit
from service.writer.gallery import Searched


def count(tally: Tally, plan: Plan) -> None:
    """The statistics (Art 12) of one transmission, written with its batch."""
    job = plan.job
    category = int(job.request.category)
    at, state = job.transmitted_at, job.member_state
    tally.add(at, state, category, Metric.TRANSMITTED)
    if job.request.category is Category.DATA_SUBJECT_ACCESS:
        tally.add(at, state, category, Metric.SUBJECT_REQUEST)
    for candidate in plan.candidates:
        matched = int(category_of_group(candidate.target.group))
        tally.add(at, state, category, Metric.HIT, matched)
        if candidate.target.marked:
            tally.add(at, state, category, Metric.HIT_ON_MARKED, matched)


def coverage(searched: Searched) -> dict[str, object]:
    """Which replica, under which writer epoch, answered each partition: coverage is provable."""
    return {
        "committed_seq": searched.committed_seq,
        "partitions": [{"partition": a.partition, "replica": a.replica, "epoch": a.epoch}
                       for a in searched.coverage],
    }


def transmission_event(
    item: Transmit, result: TransmissionOutcome | ServiceError, searched: Searched | None,
    now: dt.datetime,
) -> AuditEvent:
    audit = item.audit
    assert audit is not None
    if isinstance(result, ServiceError):
        audit.problem = result.slug
        audit.outcome = {"refused": result.slug}
        return finish(audit, result.status, now)
    for match in result.matches:
        audit.concern(match.reference_number, match.member_state, match.retention_until)
    audit.outcome = {
        "result": "hit" if result.matches else "no_hit",
        "stored": result.dataset_id is not None,
        "matched": [match.reference_number for match in result.matches],
        "modalities": sorted({match.modality for match in result.matches}),
    }
    if searched is not None and searched.coverage:
        audit.outcome["search"] = coverage(searched)
    return finish(audit, 201 if result.dataset_id is not None else 200, now)
