"""What the writer is asked to do, and the gallery changes a unit of work produces."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

import matcher
from service.audit.events import RequestAudit
from service.auth.caller import Caller
from service.transmission.outcome import TransmissionOutcome
from service.transmission.prepare import PreparedTransmission


@dataclass(frozen=True, slots=True)
class AddEntry:
    dataset_id: int
    templates: matcher.Templates
    meta: matcher.EntryMeta


@dataclass(frozen=True, slots=True)
class RemoveEntry:
    dataset_id: int


@dataclass(frozen=True, slots=True)
class MarkEntry:
    dataset_id: int
    marked: bool


IndexChange = AddEntry | RemoveEntry | MarkEntry


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
    """A command's value, the gallery changes it made (logged in its transaction, applied once
    committed) and what to do after that (e.g. shred erased rows' free pages)."""

    value: object
    changes: tuple[IndexChange, ...] = ()
    then: Callable[[], None] | None = None


CommandSpec = tuple[str, Mapping[str, object], Caller]


@dataclass(frozen=True, slots=True)
class Command:
    """A lifecycle change: `run` raises a ServiceError before writing anything, or writes and
    returns. It runs in a transaction of its own, with its audit event, in arrival order."""

    run: Callable[[Session, dt.datetime], CommandDone]
    audit: RequestAudit | None
    status: int = 200
    spec: CommandSpec | None = None  # how a remote writer rebuilds it (kind, JSON args, caller)


WorkItem = Transmit | RecordOnly | Command
WorkResult = TransmissionOutcome | object | None
