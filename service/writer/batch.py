"""The single writer. A batch holds transmissions and plain audit records: transmissions are
compared with the gallery and with each other, the stored ones inserted and linked, hits
recorded; then every item's audit event is chained and the gallery changes logged in the index
log; all of it in one transaction, after which the new datasets join the index.

Order of writes: one database transaction for the whole batch, then the index. A crash before
the commit loses only unacknowledged work (and writes no audit event for it); a crash after it
leaves datasets the index lacks, which the startup rebuild (or a shard's log replay) adds back
(the store is the source of truth).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

import matcher
from service.audit.events import AuditEvent, finish
from service.audit.security import AuthFailureWatch
from service.audit.trail import AuditTrail
from service.clock import Clock, as_utc
from service.crypto import MasterKey
from service.datasets.sealed import open_details
from service.errors import DuplicateReferenceNumber, ServiceError
from service.metrics.registry import BATCH_SECONDS, IDENTIFICATIONS
from service.rules.categories import category_of_group
from service.statistics.counters import (
    NOT_APPLICABLE,
    UNKNOWN_CALLER,
    Tally,
    refusal_metric,
)
from service.store.in_chunks import in_chunks
from service.store.models import DatasetRow
from service.transmission.batch_store import (
    Candidate,
    Plan,
    store,
    target_of_job,
    target_of_row,
)
from service.transmission.eligibility import member_state_index
from service.transmission.outcome import MatchedDataset, TransmissionOutcome
from service.transmission.prepare import PreparedTransmission
from service.writer import index_log
from service.writer.cohort import CohortKeeper
from service.writer.commands import (
    AddEntry,
    Command,
    CommandDone,
    IndexChange,
    RecordOnly,
    Transmit,
    WorkItem,
    WorkResult,
)
from service.writer.gallery import LocalGallery, Searched, WriterGallery
from service.writer.records import count, transmission_event

__all__ = ["BatchProcessor", "Command", "CommandDone", "RecordOnly", "Transmit", "WorkItem",
           "WorkResult", "entry_meta"]

_log = structlog.get_logger(__name__)




@dataclass
class _Batch:
    """What processing one batch's transmissions shares: searches done before the transaction,
    rows and reference numbers read once, datasets stored so far, counters to write at the end."""

    hits_of: dict[int, tuple[matcher.Hit, ...]]  # gallery hits per job (by id(job))
    within: dict[int, tuple[matcher.Hit, ...]]  # hits on earlier jobs of the batch
    rows: dict[int, DatasetRow]  # the datasets the gallery hits name
    taken: set[str]  # reference numbers already stored
    planned: dict[int, Plan] = field(default_factory=dict)  # jobs whose dataset is stored
    tally: Tally = field(default_factory=Tally)


def _meta_of(job: PreparedTransmission) -> matcher.EntryMeta:
    assert job.rule.group is not None
    return matcher.EntryMeta(job.rule.group, member_state_index(job.member_state))


def _details(job: PreparedTransmission) -> dict[str, object]:
    """A dataset of this batch's identity data, as sealed, from the request (no decryption)."""
    return job.request.model_dump(mode="json", exclude={"biometrics", "reference_number"})


def entry_meta(row: DatasetRow) -> matcher.EntryMeta:
    return matcher.EntryMeta(
        group=row.gallery_group,
        member_state=member_state_index(row.member_state),
        marked=row.marked,
    )


class BatchProcessor:
    """`epoch`: the writer's lease epoch, checked in every transaction (None: no lease, in
    tests and benchmarks that build a processor by hand)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        gallery: WriterGallery,
        master: MasterKey,
        trail: AuditTrail | None,
        clock: Clock,
        auth_failures: AuthFailureWatch | None = None,
        *,
        epoch: int | None = None,
    ) -> None:
        self._auth_failures = auth_failures
        self._sessions = sessions
        self._gallery = gallery
        self._master = master
        self._trail = trail
        self._clock = clock
        self._epoch = epoch
        self._committed: int | None = None  # the last index-log sequence committed

    @property
    def committed_seq(self) -> int:
        if self._committed is None:
            with self._sessions() as session:
                self._committed = index_log.committed_seq(session)
        return self._committed

    def _log(self, session: Session, changes: Sequence[IndexChange], now: dt.datetime
             ) -> int | None:
        return index_log.append(session, self._epoch, changes, self._gallery.partitions, now)

    def _publish(self, changes: Sequence[IndexChange], after: int, seq: int | None) -> None:
        """Committed changes join the gallery (every replica) before the next batch."""
        if seq is not None:
            self._committed = seq
        if changes:
            self._gallery.apply(changes, after, seq)

    def __call__(self, items: Sequence[WorkItem]) -> list[WorkResult | BaseException]:
        with BATCH_SECONDS.time():
            return self._batch(items)

    def _batch(self, items: Sequence[WorkItem]) -> list[WorkResult | BaseException]:
        results: dict[int, WorkResult | BaseException] = {}
        for index, item in enumerate(items):
            if isinstance(item, Command):
                results[index] = self._command(item)
        shared = [item for item in items if not isinstance(item, Command)]
        indexes = [index for index, item in enumerate(items) if not isinstance(item, Command)]
        if shared:
            try:
                together = self._together(shared)
            except Exception:
                if len(shared) == 1:
                    raise
                # Something in the shared transaction failed: retry one by one so that only
                # the item at fault fails.
                _log.warning("batch_retried_singly", size=len(shared))
                together = [self._one(item) for item in shared]
            results.update(zip(indexes, together, strict=True))
        return [results[index] for index in range(len(items))]

    def _one(self, item: Transmit | RecordOnly) -> WorkResult | BaseException:
        try:
            return self._together([item])[0]
        except Exception as error:
            return error

    def _command(self, command: Command) -> WorkResult | BaseException:
        now = self._clock.now()
        before = self.committed_seq
        try:
            with self._sessions.begin() as session:
                done = command.run(session, now)
                seq = self._log(session, done.changes, now)
                events = [] if command.audit is None else [finish(command.audit,
                                                                  command.status, now)]
                appended = self._trail.append(session, events, now) if self._trail else None
        except ServiceError as error:
            return error  # nothing was written; the middleware records the refusal
        if appended is not None and self._trail is not None:
            self._trail.advance(appended, now)
        if command.audit is not None:
            command.audit.written = True
        self._publish(done.changes, before, seq)  # erasures and marks: before the ack
        if done.then is not None:
            done.then()
        return done.value

    def _together(
        self, items: Sequence[Transmit | RecordOnly]
    ) -> list[WorkResult | BaseException]:
        jobs = [item.job for item in items if isinstance(item, Transmit)]
        # The batch's templates are prepared (checked, normalised) once, for the search, the
        # batch's own search and the index, instead of once by each.
        prepared = matcher.prepare_batch([job.templates for job in jobs], self._gallery.config)
        rows = [row for row, job in enumerate(jobs) if job.eligibility is not None]
        searching = [jobs[row] for row in rows]
        IDENTIFICATIONS.inc(len(searching))
        before = self.committed_seq
        searched = self._gallery.search(
            [job.templates for job in searching],
            [job.eligibility for job in searching if job.eligibility is not None],
            min_seq=before, prepared=prepared.take(rows),
        ) if searching else Searched([])
        hits_of = {id(job): outcome.hits
                   for job, outcome in zip(searching, searched.outcomes, strict=True)}
        results: list[WorkResult | BaseException] = []
        events: list[AuditEvent] = []
        now = self._clock.now()
        with self._sessions.begin() as session:
            batch = _Batch(
                hits_of=hits_of,
                within=self._within_batch(jobs, prepared),
                rows=_rows_by_id(
                    session, {hit.entry_id for hits in hits_of.values() for hit in hits}
                ),
                taken=_stored_references(session, [job for job in jobs if job.rule.stored]),
            )
            planned = [self._plan(item.job, batch) if isinstance(item, Transmit) else None
                       for item in items]
            store(session, [plan for plan in planned if isinstance(plan, Plan)])
            for item, plan in zip(items, planned, strict=True):
                if isinstance(item, RecordOnly):
                    results.append(None)
                    events.append(finish(item.audit, item.status, now))
                    events += self._refused(item, batch.tally, now)
                    continue
                assert plan is not None
                result = plan if isinstance(plan, ServiceError) else self._outcome(plan)
                results.append(result)
                if item.audit is not None:
                    searched_by = searched if item.job.eligibility is not None else None
                    events.append(transmission_event(item, result, searched_by, now))
            batch.tally.write(session)
            changes = _index_entries(batch.planned.values())
            seq = self._log(session, changes, now)
            appended = self._trail.append(session, events, now) if self._trail else None
        if appended is not None and self._trail is not None:
            self._trail.advance(appended, now)
        for item in items:
            if item.audit is not None:
                item.audit.written = True
        self._publish(changes, before, seq)
        return results

    def _refused(self, item: RecordOnly, tally: Tally, at: dt.datetime) -> list[AuditEvent]:
        """Count a refused request in the failed-access statistics; a security event when an
        address keeps failing to authenticate."""
        metric = refusal_metric(item.status)
        if metric is None:
            return []
        caller = item.audit.caller
        tally.add(at, caller.member_state if caller else UNKNOWN_CALLER, NOT_APPLICABLE, metric)
        if item.status != 401 or self._auth_failures is None:
            return []
        alert = self._auth_failures.failed(item.audit.client_hash, item.audit.presented_key_id,
                                           at)
        return [] if alert is None else [alert]

    def _plan(
        self, job: PreparedTransmission, batch: _Batch
    ) -> Plan | DuplicateReferenceNumber:
        """What this transmission hit and whether it is stored; nothing written yet."""
        if job.rule.stored and job.reference_number in batch.taken:
            return DuplicateReferenceNumber(
                f"a dataset with reference number {job.reference_number} is already stored",
                reference_number=job.reference_number,
            )
        candidates = [
            Candidate(target_of_row(batch.rows[hit.entry_id]), hit.score, hit.modality.value,
                      hit.fingers_compared)
            for hit in batch.hits_of.get(id(job), ())
            if hit.entry_id in batch.rows  # erased since the index was searched
        ]
        candidates += [  # datasets stored earlier in this batch, which the index lacks yet
            Candidate(own, hit.score, hit.modality.value, hit.fingers_compared)
            for hit in batch.within.get(id(job), ())
            if hit.entry_id in batch.planned
            and (own := batch.planned[hit.entry_id].own) is not None
        ]
        plan = Plan(job, candidates, target_of_job(job) if job.rule.stored else None)
        if plan.own is not None:
            batch.taken.add(job.reference_number)
            batch.planned[id(job)] = plan
        count(batch.tally, plan)
        return plan

    def _within_batch(
        self, jobs: Sequence[PreparedTransmission], prepared: matcher.PreparedBatch
    ) -> dict[int, tuple[matcher.Hit, ...]]:
        """Each searching job's hits among the stored-category jobs *before* it in the batch.

        One search over a small gallery of the batch's own datasets instead of comparing every
        pair; whether an earlier job was really stored (not a duplicate) is checked later.
        `prepared`: the jobs' templates, prepared once for the batch.
        """
        stored = [row for row, job in enumerate(jobs) if job.rule.stored]
        rows = [row for row, job in enumerate(jobs) if job.eligibility is not None]
        if not stored or not rows:
            return {}
        searching = [jobs[row] for row in rows]
        order = {id(job): index for index, job in enumerate(jobs)}
        batch = matcher.Gallery(self._gallery.config)
        batch.add_prepared([id(jobs[row]) for row in stored], prepared.take(stored),
                           [_meta_of(jobs[row]) for row in stored])
        # The same decision rule as the gallery's: with ABIS_SCORE_NORMALISATION=cohort the
        # thresholds are z, so the batch's own datasets are judged by the same cohort.
        cohort = getattr(self._gallery, "cohort", None)
        found = LocalGallery(batch, cohort if isinstance(cohort, CohortKeeper) else None).search(
            [job.templates for job in searching],
            [job.eligibility for job in searching if job.eligibility is not None],
            prepared=prepared.take(rows),
        ).outcomes
        return {
            id(job): tuple(hit for hit in outcome.hits
                           if order[hit.entry_id] < order[id(job)])
            for job, outcome in zip(searching, found, strict=True)
        }

    def _outcome(self, plan: Plan) -> TransmissionOutcome:
        matches = tuple(self._matched(candidate) for candidate in plan.candidates)
        own = plan.own
        return TransmissionOutcome(
            matches=tuple(sorted(matches, key=lambda match: (-match.score, match.dataset_id))),
            dataset_id=None if own is None else own.id,
            sequence_id=None if own is None else own.sequence_id,
        )

    def _matched(self, candidate: Candidate) -> MatchedDataset:
        target = candidate.target
        assert target.id is not None and candidate.hit_id is not None
        if target.job is not None:
            details = _details(target.job)
        else:
            assert target.row is not None
            details = open_details(self._master, target.row)
        event = details.get("event")
        event_date = dt.date.fromisoformat(event["date"]) if isinstance(event, dict) else None
        return MatchedDataset(
            hit_id=candidate.hit_id,
            dataset_id=target.id,
            reference_number=target.reference_number,
            member_state=target.member_state,
            category=category_of_group(target.group),
            marked=target.marked,
            taken_at=dt.datetime.fromisoformat(str(details["taken_at"])),
            transmitted_at=as_utc(target.transmitted_at),
            event_date=event_date,
            score=candidate.score,
            modality=candidate.modality,
            fingers_compared=candidate.fingers_compared,
            retention_until=target.retention_until,
            details=details,
        )


def _index_entries(plans: Iterable[Plan]) -> list[IndexChange]:
    entries: list[IndexChange] = []
    for plan in plans:
        assert plan.own is not None and plan.own.id is not None
        entries.append(AddEntry(plan.own.id, plan.job.templates, _meta_of(plan.job)))
    return entries


def _stored_references(session: Session, jobs: list[PreparedTransmission]) -> set[str]:
    references = sorted({job.reference_number for job in jobs})
    found: set[str] = set()
    for chunk in in_chunks(references):
        found.update(
            session.scalars(
                select(DatasetRow.reference_number).where(DatasetRow.reference_number.in_(chunk))
            )
        )
    return found


def _rows_by_id(session: Session, ids: set[int]) -> dict[int, DatasetRow]:
    rows: dict[int, DatasetRow] = {}
    for chunk in in_chunks(sorted(ids)):
        for row in session.scalars(select(DatasetRow).where(DatasetRow.id.in_(chunk))):
            rows[row.id] = row
    return rows


