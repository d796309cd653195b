"""The single writer. A batch holds transmissions and plain audit records: transmissions are
compared with the gallery and with each other, the stored ones inserted and linked, hits
recorded; then every item's audit event is chained; all of it in one transaction, after which
the new datasets join the index.

Order of writes: one database transaction for the whole batch, then the index. A crash before
the commit loses only unacknowledged work (and writes no audit event for it); a crash after it
leaves datasets the index lacks, which the startup rebuild adds back (the store is the source
of truth).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import structlog
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

import matcher
from schemas.codes import Category
from service.audit.events import AuditEvent, RequestAudit, finish
from service.audit.trail import AuditTrail
from service.clock import Clock, as_utc
from service.crypto import MasterKey
from service.errors import DuplicateReferenceNumber, ServiceError
from service.rules.categories import category_of_group
from service.statistics.counters import Metric, bump
from service.store.models import DatasetRow, HitRow
from service.transmission.eligibility import member_state_index
from service.transmission.outcome import MatchedDataset, TransmissionOutcome
from service.transmission.prepare import PreparedTransmission
from service.transmission.stored import open_details

_log = structlog.get_logger(__name__)
_IN_CHUNK = 500  # SQLite allows 999 bound parameters by default


@dataclass(frozen=True, slots=True)
class Transmit:
    """A prepared transmission and the audit facts of its request (None: audit off, benchmarks)."""

    job: PreparedTransmission
    audit: RequestAudit | None


@dataclass(frozen=True, slots=True)
class RecordOnly:
    """A request that is answered without a transmission: only its audit event is written."""

    audit: RequestAudit
    status: int


@dataclass(frozen=True, slots=True)
class CommandDone:
    value: object
    then: Callable[[], None] | None = None  # index changes, applied once committed


@dataclass(frozen=True, slots=True)
class Command:
    """A lifecycle change: `run` raises a ServiceError before writing anything, or writes and
    returns. It runs in a transaction of its own, with its audit event, in arrival order."""

    run: Callable[[Session, dt.datetime], CommandDone]
    audit: RequestAudit | None
    status: int = 200


WorkItem = Transmit | RecordOnly | Command
WorkResult = TransmissionOutcome | object | None


@dataclass
class _Candidate:
    """A hit before it is written: the matched row and how it matched."""

    row: DatasetRow
    score: float
    modality: str
    fingers_compared: int
    details: dict[str, object] = field(default_factory=dict)


@dataclass
class _Pending:
    """A dataset of this batch already inserted, which later ones are compared with."""

    job: PreparedTransmission
    row: DatasetRow
    meta: matcher.EntryMeta


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
    def __init__(
        self,
        sessions: sessionmaker[Session],
        gallery: matcher.Gallery,
        master: MasterKey,
        trail: AuditTrail | None,
        clock: Clock,
    ) -> None:
        self._sessions = sessions
        self._gallery = gallery
        self._master = master
        self._trail = trail
        self._clock = clock

    def __call__(self, items: Sequence[WorkItem]) -> list[WorkResult | BaseException]:
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
        try:
            with self._sessions.begin() as session:
                done = command.run(session, now)
                events = [] if command.audit is None else [finish(command.audit,
                                                                  command.status, now)]
                appended = self._trail.append(session, events, now) if self._trail else None
        except ServiceError as error:
            return error  # nothing was written; the middleware records the refusal
        if appended is not None and self._trail is not None:
            self._trail.advance(appended, now)
        if command.audit is not None:
            command.audit.written = True
        if done.then is not None:
            done.then()
        return done.value

    def _together(
        self, items: Sequence[Transmit | RecordOnly]
    ) -> list[WorkResult | BaseException]:
        jobs = [item.job for item in items if isinstance(item, Transmit)]
        searching = [job for job in jobs if job.eligibility is not None]
        found = self._gallery.search_many(
            [job.templates for job in searching],
            [job.eligibility for job in searching if job.eligibility is not None],
        )
        hits_of = {id(job): outcome.hits for job, outcome in zip(searching, found, strict=True)}
        within = self._within_batch(jobs)
        results: list[WorkResult | BaseException] = []
        pending: dict[int, _Pending] = {}
        events: list[AuditEvent] = []
        now = self._clock.now()
        with self._sessions.begin() as session:
            taken = _stored_references(session, [job for job in jobs if job.rule.stored])
            rows = _rows_by_id(
                session, {hit.entry_id for hits in hits_of.values() for hit in hits}
            )
            for item in items:
                if isinstance(item, RecordOnly):
                    results.append(None)
                    events.append(finish(item.audit, item.status, now))
                    continue
                result = self._transmit(session, item.job, hits_of, within, rows, taken, pending)
                results.append(result)
                if item.audit is not None:
                    events.append(_transmission_event(item, result, now))
            appended = self._trail.append(session, events, now) if self._trail else None
        if appended is not None and self._trail is not None:
            self._trail.advance(appended, now)
        for item in items:
            if item.audit is not None:
                item.audit.written = True
        for entry in pending.values():
            self._gallery.add(entry.row.id, entry.job.templates, entry.meta)
        return results

    def _transmit(
        self,
        session: Session,
        job: PreparedTransmission,
        hits_of: dict[int, tuple[matcher.Hit, ...]],
        within: dict[int, tuple[matcher.Hit, ...]],
        rows: dict[int, DatasetRow],
        taken: set[str],
        pending: dict[int, _Pending],
    ) -> TransmissionOutcome | ServiceError:
        if job.rule.stored and job.reference_number in taken:
            return DuplicateReferenceNumber(
                f"a dataset with reference number {job.reference_number} is already stored",
                reference_number=job.reference_number,
            )
        candidates = [
            _Candidate(rows[hit.entry_id], hit.score, hit.modality.value, hit.fingers_compared)
            for hit in hits_of.get(id(job), ())
            if hit.entry_id in rows  # erased since the index was searched
        ]
        candidates += [  # datasets stored earlier in this batch, which the index lacks yet
            _Candidate(pending[hit.entry_id].row, hit.score, hit.modality.value,
                       hit.fingers_compared, _details(pending[hit.entry_id].job))
            for hit in within.get(id(job), ())
            if hit.entry_id in pending
        ]
        row = self._insert(session, job, candidates) if job.rule.stored else None
        if row is not None:
            taken.add(job.reference_number)
            pending[id(job)] = _Pending(job, row, entry_meta(row))
        return self._record_hits(session, job, row, candidates)

    def _within_batch(
        self, jobs: Sequence[PreparedTransmission]
    ) -> dict[int, tuple[matcher.Hit, ...]]:
        """Each searching job's hits among the stored-category jobs *before* it in the batch.

        One search over a small gallery of the batch's own datasets instead of comparing every
        pair; whether an earlier job was really stored (not a duplicate) is checked later.
        """
        stored = [job for job in jobs if job.rule.stored]
        searching = [job for job in jobs if job.eligibility is not None]
        if not stored or not searching:
            return {}
        order = {id(job): index for index, job in enumerate(jobs)}
        batch = matcher.Gallery(self._gallery.config)
        batch.add_many(
            (id(job), job.templates, _meta_of(job)) for job in stored
        )
        found = batch.search_many(
            [job.templates for job in searching],
            [job.eligibility for job in searching if job.eligibility is not None],
        )
        return {
            id(job): tuple(hit for hit in outcome.hits
                           if order[hit.entry_id] < order[id(job)])
            for job, outcome in zip(searching, found, strict=True)
        }

    def _insert(
        self, session: Session, job: PreparedTransmission, candidates: list[_Candidate]
    ) -> DatasetRow:
        sealed = job.sealed
        assert sealed is not None and job.rule.group is not None
        assert job.retention_until is not None
        sequences = {candidate.row.sequence_id for candidate in candidates}
        row = DatasetRow(
            reference_number=job.reference_number,
            member_state=job.member_state,
            category=int(job.request.category),
            gallery_group=job.rule.group,
            transmitted_at=job.transmitted_at,
            retention_until=job.retention_until,
            marked=False,
            sequence_id=min(sequences) if sequences else 0,
            key_id=sealed.key_id,
            wrapped_key=sealed.wrapped_key,
            nonce=sealed.nonce,
            ciphertext=sealed.ciphertext,
        )
        session.add(row)
        session.flush()
        if not sequences:
            row.sequence_id = row.id  # a new person: the sequence is named after its first dataset
        elif len(sequences) > 1:
            # The hit joins datasets that were thought to be different people (Art 3(6)).
            session.execute(
                update(DatasetRow)
                .where(DatasetRow.sequence_id.in_(sequences))
                .values(sequence_id=row.sequence_id)
            )
        return row

    def _record_hits(
        self,
        session: Session,
        job: PreparedTransmission,
        row: DatasetRow | None,
        candidates: list[_Candidate],
    ) -> TransmissionOutcome:
        hit_rows = [
            HitRow(
                created_at=job.transmitted_at,
                probe_dataset_id=None if row is None else row.id,
                probe_reference_number=job.reference_number,
                probe_member_state=job.member_state,
                probe_category=int(job.request.category),
                matched_dataset_id=candidate.row.id,
                matched_member_state=candidate.row.member_state,
                matched_category=int(category_of_group(candidate.row.gallery_group)),
                score=candidate.score,
                modality=candidate.modality,
            )
            for candidate in candidates
        ]
        session.add_all(hit_rows)
        session.flush()
        _count(session, job, candidates)
        matches = tuple(
            self._matched(candidate, hit_row.id)
            for candidate, hit_row in zip(candidates, hit_rows, strict=True)
        )
        return TransmissionOutcome(
            matches=tuple(sorted(matches, key=lambda match: (-match.score, match.dataset_id))),
            dataset_id=None if row is None else row.id,
            sequence_id=None if row is None else row.sequence_id,
        )

    def _matched(self, candidate: _Candidate, hit_id: int) -> MatchedDataset:
        row = candidate.row
        details = candidate.details or open_details(self._master, row)
        event = details.get("event")
        event_date = dt.date.fromisoformat(event["date"]) if isinstance(event, dict) else None
        return MatchedDataset(
            hit_id=hit_id,
            dataset_id=row.id,
            reference_number=row.reference_number,
            member_state=row.member_state,
            category=category_of_group(row.gallery_group),
            marked=row.marked,
            taken_at=dt.datetime.fromisoformat(str(details["taken_at"])),
            transmitted_at=as_utc(row.transmitted_at),
            event_date=event_date,
            score=candidate.score,
            modality=candidate.modality,
            fingers_compared=candidate.fingers_compared,
            retention_until=row.retention_until,
            details=details,
        )


def _count(session: Session, job: PreparedTransmission, candidates: list[_Candidate]) -> None:
    """The statistics (Art 12) of one transmission, in its own transaction."""
    category = int(job.request.category)
    at, state = job.transmitted_at, job.member_state
    bump(session, at, state, category, Metric.TRANSMITTED)
    if job.request.category is Category.DATA_SUBJECT_ACCESS:
        bump(session, at, state, category, Metric.SUBJECT_REQUEST)
    for candidate in candidates:
        matched = int(category_of_group(candidate.row.gallery_group))
        bump(session, at, state, category, Metric.HIT, matched)
        if candidate.row.marked:
            bump(session, at, state, category, Metric.HIT_ON_MARKED, matched)


def _transmission_event(
    item: Transmit, result: TransmissionOutcome | ServiceError, now: dt.datetime
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
    return finish(audit, 201 if result.dataset_id is not None else 200, now)


def _chunks(values: list[int] | list[str]) -> Iterable[list[int] | list[str]]:
    for start in range(0, len(values), _IN_CHUNK):
        yield values[start : start + _IN_CHUNK]


def _stored_references(session: Session, jobs: list[PreparedTransmission]) -> set[str]:
    references = sorted({job.reference_number for job in jobs})
    found: set[str] = set()
    for chunk in _chunks(references):
        found.update(
            session.scalars(
                select(DatasetRow.reference_number).where(DatasetRow.reference_number.in_(chunk))
            )
        )
    return found


def _rows_by_id(session: Session, ids: set[int]) -> dict[int, DatasetRow]:
    rows: dict[int, DatasetRow] = {}
    for chunk in _chunks(sorted(ids)):
        for row in session.scalars(select(DatasetRow).where(DatasetRow.id.in_(chunk))):
            rows[row.id] = row
    return rows


