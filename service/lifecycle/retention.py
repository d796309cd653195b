"""The retention sweeper: datasets whose retention period has ended are erased (Art 29(10))."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from concurrent.futures import Future

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.audit.events import Operation, RequestAudit
from service.periodic import Periodic
from service.store.database import shred
from service.store.models import DatasetRow
from service.writer.commands import Command, CommandDone, RemoveEntry, WorkResult

_log = structlog.get_logger(__name__)
SWEEP_ROUTE = "retention-sweep"
SWEEP_CHUNK = 500  # datasets per transaction (and per audit event)


def system_audit(route: str, purpose: str, *, operation: Operation) -> RequestAudit:
    """The audit record of work the service does by itself, named by the task."""
    audit = RequestAudit(f"system-{uuid.uuid4().hex}", "SYSTEM", None, route=route,
                         operation=operation)
    audit.purpose = purpose
    return audit


def erase_expired_chunk(session: Session, today: dt.date, audit: RequestAudit | None
                        ) -> list[int]:
    """Delete up to one chunk of datasets kept past their retention; their ids."""
    rows = list(session.scalars(
        select(DatasetRow).where(DatasetRow.retention_until < today)
        .order_by(DatasetRow.id).limit(SWEEP_CHUNK)
    ))
    for row in rows:
        if audit is not None:
            audit.concern(row.reference_number, row.member_state, row.retention_until)
        session.delete(row)
    if audit is not None:
        audit.outcome = {"erased": len(rows)}
    return [row.id for row in rows]


def sweep_command(today: dt.date) -> Command:
    audit = system_audit(SWEEP_ROUTE, "retention period ended (Art 29(10))",
                         operation=Operation.EXPIRE)

    def run(session: Session, _now: dt.datetime) -> CommandDone:
        erased = erase_expired_chunk(session, today, audit)
        engine = session.get_bind()

        return CommandDone(len(erased), tuple(RemoveEntry(entry) for entry in erased),
                           (lambda: shred(engine)) if erased else None)  # type: ignore[arg-type]

    return Command(run, audit)


class Sweeper:
    """Runs the sweep in the writer every `interval` seconds, chunk by chunk."""

    def __init__(
        self,
        submit: Callable[[Command], Future[WorkResult]],
        today: Callable[[], dt.date],
        interval: float,
    ) -> None:
        self._submit = submit
        self._today = today
        self._periodic = Periodic("abis-sweeper", interval, self.sweep_once, "sweep_failed")

    def start(self) -> None:
        self._periodic.start()

    def stop(self) -> None:
        self._periodic.stop()

    def sweep_once(self) -> int:
        total = 0
        while True:
            erased = self._submit(sweep_command(self._today())).result()
            assert isinstance(erased, int)
            total += erased
            if erased < SWEEP_CHUNK:
                break
        if total:
            _log.info("retention_sweep", erased=total)
        return total
