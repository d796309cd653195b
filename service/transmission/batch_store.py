"""Writing one batch's transmissions with set operations instead of row by row.

The plan of each transmission (stored or not, what it hit) is made first; then one bulk insert
of the datasets (ids returned in order), sequences resolved in memory, one bulk update of the
new datasets' sequences (plus a rare update merging older sequences), and one bulk insert of
the hits (ids returned). A flush per row would cost a round trip each.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlalchemy.orm import Session

from service.store.models import DatasetRow, HitRow
from service.transmission.prepare import PreparedTransmission


@dataclass
class Target:
    """A dataset a hit points at: stored before this batch (`row`) or earlier in it (`job`)."""

    reference_number: str
    member_state: str
    group: int
    marked: bool
    transmitted_at: dt.datetime
    retention_until: dt.date
    sequence_id: int | None  # None for a batch dataset until its sequence is resolved
    id: int | None  # None for a batch dataset until it is inserted
    row: DatasetRow | None = None
    job: PreparedTransmission | None = None


@dataclass
class Candidate:
    target: Target
    score: float
    modality: str
    fingers_compared: int
    hit_id: int | None = None


@dataclass
class Plan:
    job: PreparedTransmission
    candidates: list[Candidate]
    own: Target | None  # set when the job's dataset is stored
    hit_ids: list[int] = field(default_factory=list)


def target_of_row(row: DatasetRow) -> Target:
    return Target(row.reference_number, row.member_state, row.gallery_group, row.marked,
                  row.transmitted_at, row.retention_until, row.sequence_id, row.id, row=row)


def target_of_job(job: PreparedTransmission) -> Target:
    assert job.rule.group is not None and job.retention_until is not None
    return Target(job.reference_number, job.member_state, job.rule.group, False,
                  job.transmitted_at, job.retention_until, None, None, job=job)


def _dataset_values(job: PreparedTransmission) -> dict[str, Any]:
    sealed = job.sealed
    assert sealed is not None and job.rule.group is not None
    return {
        "reference_number": job.reference_number,
        "member_state": job.member_state,
        "category": int(job.request.category),
        "gallery_group": job.rule.group,
        "transmitted_at": job.transmitted_at,
        "retention_until": job.retention_until,
        "marked": False,
        "sequence_id": 0,  # resolved below, once ids exist
        "key_id": sealed.key_id,
        "wrapped_key": sealed.wrapped_key,
        "nonce": sealed.nonce,
        "ciphertext": sealed.ciphertext,
    }


class _Sequences:
    """Union-find over sequence ids: a hit joins the sequences of everything it matched."""

    def __init__(self) -> None:
        self._parent: dict[int, int] = {}

    def find(self, sequence: int) -> int:
        self._parent.setdefault(sequence, sequence)
        while self._parent[sequence] != sequence:
            self._parent[sequence] = self._parent[self._parent[sequence]]
            sequence = self._parent[sequence]
        return sequence

    def join(self, sequences: set[int]) -> int:
        roots = {self.find(sequence) for sequence in sequences}
        target = min(roots)
        for root in roots:
            self._parent[root] = target
        return target

    def merged_away(self) -> dict[int, int]:
        return {s: self.find(s) for s in self._parent if self.find(s) != s}


def store(session: Session, plans: list[Plan]) -> None:
    """Insert the planned datasets, link their sequences (Art 3(6)) and record every hit."""
    stored = [plan for plan in plans if plan.own is not None]
    if stored:
        ids = session.execute(
            insert(DatasetRow).returning(DatasetRow.id, sort_by_parameter_order=True),
            [_dataset_values(plan.job) for plan in stored],
        ).scalars().all()
        for plan, new_id in zip(stored, ids, strict=True):
            assert plan.own is not None
            plan.own.id = new_id
    sequences = _Sequences()
    for plan in stored:  # in batch order: an earlier dataset's sequence is known when needed
        own = plan.own
        assert own is not None and own.id is not None
        matched = {c.target.sequence_id for c in plan.candidates}
        own.sequence_id = own.id if not matched else sequences.join(
            {s for s in matched if s is not None})
    for plan in stored:
        assert plan.own is not None and plan.own.sequence_id is not None
        plan.own.sequence_id = sequences.find(plan.own.sequence_id)
    if stored:
        session.connection().execute(
            update(DatasetRow).where(DatasetRow.id == bindparam("dataset_id"))
            .values(sequence_id=bindparam("sequence")),
            [{"dataset_id": plan.own.id, "sequence": plan.own.sequence_id}  # type: ignore[union-attr]
             for plan in stored],
        )
    for old, new in sequences.merged_away().items():
        # A hit joined datasets that were thought to be different people.
        session.execute(update(DatasetRow).where(DatasetRow.sequence_id == old)
                        .values(sequence_id=new).execution_options(synchronize_session=False))
    _record_hits(session, plans)


def _record_hits(session: Session, plans: list[Plan]) -> None:
    from service.rules.categories import category_of_group

    values = []
    for plan in plans:
        job = plan.job
        for candidate in plan.candidates:
            target = candidate.target
            assert target.id is not None
            values.append({
                "created_at": job.transmitted_at,
                "probe_dataset_id": None if plan.own is None else plan.own.id,
                "probe_reference_number": job.reference_number,
                "probe_member_state": job.member_state,
                "probe_category": int(job.request.category),
                "matched_dataset_id": target.id,
                "matched_member_state": target.member_state,
                "matched_category": int(category_of_group(target.group)),
                "score": candidate.score,
                "modality": candidate.modality,
                "false_hit": False,
            })
    if not values:
        return
    hit_ids = iter(session.execute(
        insert(HitRow).returning(HitRow.id, sort_by_parameter_order=True), values
    ).scalars().all())
    for plan in plans:
        for candidate in plan.candidates:
            candidate.hit_id = next(hit_ids)
