"""The transmission use case as the API calls it."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from typing import Protocol

import orjson
from sqlalchemy.orm import Session, sessionmaker

from schemas.transmission import TransmissionRequest, TransmissionResult
from service.audit.events import RequestAudit
from service.audit.trail import AuditTrail
from service.auth import Caller
from service.clock import Clock
from service.crypto import MasterKey
from service.errors import InsufficientQuality, NotReady
from service.matcher_settings import matcher_config
from service.rules.categories import rule_for
from service.settings import Settings
from service.statistics.counters import Metric, bump
from service.store.models import QualityRefusalRow
from service.transmission.answer import build_answer
from service.transmission.outcome import TransmissionOutcome
from service.transmission.prepare import prepare
from service.writer.commands import Transmit
from service.writer.queue import WorkQueue


class Transmitting(Protocol):
    """What the transmission use case uses of a running service (a `Runtime` is one)."""

    @property
    def settings(self) -> Settings: ...
    @property
    def sessions(self) -> sessionmaker[Session]: ...
    @property
    def master(self) -> MasterKey: ...
    @property
    def pipeline(self) -> WorkQueue: ...
    @property
    def audit(self) -> AuditTrail | None: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def ready(self) -> threading.Event: ...
    @property
    def skew(self) -> dt.timedelta: ...


def _note_request(runtime: Transmitting, request: TransmissionRequest, caller: Caller,
                  audit: RequestAudit) -> None:
    """What the audit records of any transmission, refused or not: never the templates."""
    rule = rule_for(request.category, request.admission_decision)
    audit.user_id = request.operator_user_id
    audit.purpose = request.purpose or f"category {int(request.category)} ({rule.article})"
    audit.concern(request.reference_number, caller.member_state, None)
    if runtime.audit is not None:
        probe = orjson.dumps(request.biometrics.model_dump(), option=orjson.OPT_SORT_KEYS)
        audit.probe_hmac = runtime.audit.keys.fingerprint(probe)


async def transmit(
    runtime: Transmitting,
    request: TransmissionRequest,
    caller: Caller,
    audit: RequestAudit | None = None,
) -> TransmissionResult:
    if audit is not None:
        _note_request(runtime, request, caller, audit)
    if not runtime.ready.is_set():
        raise NotReady("the gallery is still loading; retry shortly")
    try:
        job = prepare(
            request,
            caller,
            now=runtime.clock.now(),
            skew=runtime.skew,
            config=matcher_config(runtime.settings),
            master=runtime.master,
        )
    except InsufficientQuality:
        await asyncio.to_thread(_save_quality_refusal, runtime, request, caller)
        raise
    if audit is not None and job.retention_until is not None:
        audit.concern(job.reference_number, caller.member_state, job.retention_until)
    future = runtime.pipeline.submit(Transmit(job, audit), urgent=request.urgent)
    outcome = await asyncio.wrap_future(future)
    assert isinstance(outcome, TransmissionOutcome)
    return build_answer(job, outcome)


def _save_quality_refusal(runtime: Transmitting, request: TransmissionRequest,
                          caller: Caller) -> None:
    """Counted for the statistics (Art 38(1)): the sender must retransmit."""
    now = runtime.clock.now()
    with runtime.sessions.begin() as session:
        session.add(
            QualityRefusalRow(
                created_at=now,
                reference_number=request.reference_number,
                member_state=caller.member_state,
                category=int(request.category),
            )
        )
        bump(session, now, caller.member_state, int(request.category),
             Metric.QUALITY_REREQUEST)
