"""False hits (Art 38(6)): the receiving Member State reports one; the sequence is re-derived
from the hits that still stand, so the wrongly linked datasets come apart."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.audit.events import RequestAudit
from service.auth import Caller
from service.errors import NotFound
from service.statistics.counters import Metric, bump
from service.store.models import DatasetRow, HitRow
from service.writer.commands import Command, CommandDone


def _components(members: list[int], edges: list[tuple[int, int]]) -> dict[int, int]:
    """Each member's component, named by its smallest member (union-find)."""
    parent = {member: member for member in members}

    def root(node: int) -> int:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for left, right in edges:
        a, b = root(left), root(right)
        if a != b:
            parent[max(a, b)] = min(a, b)
    return {member: root(member) for member in members}


def relink(session: Session, sequence_id: int) -> None:
    members = list(session.scalars(select(DatasetRow.id).where(
        DatasetRow.sequence_id == sequence_id)))
    if not members:
        return
    edges = [
        (probe, matched)
        for probe, matched in session.execute(
            select(HitRow.probe_dataset_id, HitRow.matched_dataset_id).where(
                HitRow.false_hit.is_(False),
                HitRow.probe_dataset_id.in_(members),
                HitRow.matched_dataset_id.in_(members),
            )
        )
        if probe is not None and matched is not None
    ]
    for member, component in _components(members, edges).items():
        session.execute(update(DatasetRow).where(DatasetRow.id == member)
                        .values(sequence_id=component))


def report_false_hit(hit_id: int, caller: Caller, audit: RequestAudit | None) -> Command:
    def run(session: Session, now: dt.datetime) -> CommandDone:
        hit = session.get(HitRow, hit_id)
        if hit is None or hit.probe_member_state != caller.member_state:
            raise NotFound(f"no hit {hit_id} received by {caller.member_state}")
        if audit is not None:
            audit.concern(hit.probe_reference_number, hit.probe_member_state, None)
            audit.outcome = {"hit_id": hit_id}
        if not hit.false_hit:
            hit.false_hit = True
            bump(session, now, hit.probe_member_state, hit.probe_category, Metric.FALSE_HIT,
                 hit.matched_category)
            probe = session.get(DatasetRow, hit.probe_dataset_id) if hit.probe_dataset_id else None
            if probe is not None:
                session.flush()
                relink(session, probe.sequence_id)
        return CommandDone({"hit_id": hit_id, "false_hit": True})

    return Command(run, audit, spec=("false-hit", {"hit_id": hit_id}, caller))
