"""Amending, marking, extending and erasing one dataset: commands run by the single writer."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from schemas.codes import Category
from schemas.lifecycle import (
    DatasetUpdate,
    ErasureReason,
    LifecycleResult,
    MarkReason,
    NotificationKind,
)
from service.audit.events import RequestAudit
from service.auth import Caller
from service.crypto import MasterKey, seal
from service.datasets.sealed import open_payload
from service.errors import RuleViolation
from service.lifecycle.access import own_dataset
from service.lifecycle.notifications import notify_linked
from service.rules.categories import category_of_group
from service.rules.dates import add_years
from service.statistics.counters import Metric, bump
from service.store.database import shred
from service.store.models import DatasetRow
from service.store.payload import DatasetPayload, encode_payload
from service.transmission.prepare import dataset_identity
from service.writer.commands import Command, CommandDone, MarkEntry, RemoveEntry

_MARKABLE = {
    MarkReason.INTERNATIONAL_PROTECTION: {Category.APPLICANT},
    MarkReason.RESIDENCE_DOCUMENT: {
        Category.IRREGULAR_CROSSING, Category.ILLEGAL_STAY, Category.SEARCH_AND_RESCUE,
    },
}


def _result(row: DatasetRow, notified: list[str]) -> LifecycleResult:
    return LifecycleResult(
        reference_number=row.reference_number,
        marked=row.marked,
        retention_until=row.retention_until,
        sequence_id=row.sequence_id,
        notified_member_states=notified,
    )


def _concern(audit: RequestAudit | None, row: DatasetRow) -> None:
    if audit is not None:
        audit.concern(row.reference_number, row.member_state, row.retention_until)


def amend(reference_number: str, update: DatasetUpdate, caller: Caller, master: MasterKey,
          audit: RequestAudit | None) -> Command:
    """Status updates (Art 16) go inside the sealed payload: they are personal data."""

    def run(session: Session, now: dt.datetime) -> CommandDone:
        row = own_dataset(session, reference_number, caller)
        _concern(audit, row)
        payload = open_payload(master, row)
        status = dict(payload.details.get("status") or {})
        before = bool(status.get("security_flag", False))
        status.update(update.model_dump(mode="json", exclude_unset=True))
        status["updated_at"] = now.isoformat()
        details = dict(payload.details, status=status)
        sealed = seal(master, dataset_identity(row.reference_number, row.member_state,
                                               row.category),
                      encode_payload(DatasetPayload(details, payload.fingers, payload.face)))
        row.wrapped_key, row.key_id = sealed.wrapped_key, sealed.key_id
        row.nonce, row.ciphertext = sealed.nonce, sealed.ciphertext
        notified: list[str] = []
        if update.security_flag is not None and update.security_flag != before:
            kind = (NotificationKind.SECURITY_FLAG_SET if update.security_flag
                    else NotificationKind.SECURITY_FLAG_CLEARED)
            notified = notify_linked(session, row, kind, now)
        return CommandDone(_result(row, notified))

    arguments = {"reference_number": reference_number,
                 "update": update.model_dump(mode="json", exclude_unset=True)}
    return Command(run, audit, spec=("amend", arguments, caller))


def set_mark(reference_number: str, reason: MarkReason | None, caller: Caller,
             audit: RequestAudit | None) -> Command:
    """Mark (reason given) or unmark (None) a dataset (Art 31); linked Member States are told."""
    def run(session: Session, now: dt.datetime) -> CommandDone:
        row = own_dataset(session, reference_number, caller)
        _concern(audit, row)
        category = category_of_group(row.gallery_group)
        if reason is not None and category not in _MARKABLE[reason]:
            raise RuleViolation(f"a category {int(category)} dataset cannot be marked for "
                                f"{reason.value}")
        wanted = reason is not None
        if row.marked == wanted:  # idempotent: nothing changes, nobody is told twice
            return CommandDone(_result(row, []))
        row.marked = wanted
        kind = NotificationKind.MARKED if wanted else NotificationKind.UNMARKED
        notified = notify_linked(session, row, kind, now,
                                 reason.value if reason is not None else None)
        bump(session, now, row.member_state, int(category),
             Metric.MARKED if wanted else Metric.UNMARKED)
        return CommandDone(_result(row, notified), (MarkEntry(row.id, wanted),))

    arguments = {"reference_number": reference_number,
                 "reason": None if reason is None else reason.value}
    return Command(run, audit, spec=("mark", arguments, caller))


def extend(reference_number: str, caller: Caller, audit: RequestAudit | None) -> Command:
    """Temporary protection is kept a year at a time and may be renewed (Art 26)."""
    def run(session: Session, now: dt.datetime) -> CommandDone:
        row = own_dataset(session, reference_number, caller)
        if row.category != int(Category.TEMPORARY_PROTECTION):
            raise RuleViolation("only temporary-protection datasets (category 0) are extended")
        row.retention_until = add_years(row.retention_until, 1)
        _concern(audit, row)
        return CommandDone(_result(row, []))

    return Command(run, audit, spec=("extend", {"reference_number": reference_number}, caller))


def erase(reference_number: str, reason: ErasureReason, caller: Caller,
          audit: RequestAudit | None) -> Command:
    """Advance erasure (Art 30): the row and its wrapped data key go (crypto-shredding), the
    index forgets it at once, and linked Member States are told."""
    def run(session: Session, now: dt.datetime) -> CommandDone:
        row = own_dataset(session, reference_number, caller)
        _concern(audit, row)
        notified = notify_linked(session, row, NotificationKind.ERASED, now, reason.value)
        result = _result(row, notified)
        entry, engine = row.id, session.get_bind()
        session.delete(row)

        return CommandDone(result, (RemoveEntry(entry),),
                           lambda: shred(engine))  # type: ignore[arg-type]

    arguments = {"reference_number": reference_number, "reason": reason.value}
    return Command(run, audit, spec=("erase", arguments, caller))
