"""The transmission use case as the API calls it."""

from __future__ import annotations

import asyncio

from sqlalchemy.orm import Session

from schemas.transmission import TransmissionRequest, TransmissionResult
from service.auth import Caller
from service.errors import InsufficientQuality, NotReady
from service.runtime import Runtime, matcher_config
from service.store.models import QualityRefusalRow
from service.transmission.answer import build_answer
from service.transmission.prepare import prepare


def _record_quality_refusal(session: Session, request: TransmissionRequest, caller: Caller,
                            runtime: Runtime) -> None:
    session.add(
        QualityRefusalRow(
            created_at=runtime.clock.now(),
            reference_number=request.reference_number,
            member_state=caller.member_state,
            category=int(request.category),
        )
    )


async def transmit(
    runtime: Runtime, request: TransmissionRequest, caller: Caller
) -> TransmissionResult:
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
        await asyncio.to_thread(_save_refusal, runtime, request, caller)
        raise
    outcome = await asyncio.wrap_future(runtime.pipeline.submit(job, urgent=request.urgent))
    return build_answer(job, outcome)


def _save_refusal(runtime: Runtime, request: TransmissionRequest, caller: Caller) -> None:
    with runtime.sessions.begin() as session:
        _record_quality_refusal(session, request, caller, runtime)
