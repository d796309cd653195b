"""Oversight reads beside the audit log and the monthly counters: the last signed checkpoint,
movements between Member States, and the service's state. The console shows these too."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query

from schemas.audit import AuditCheckpointView
from schemas.codes import Category
from schemas.oversight import MovementsReport, SystemStatus
from schemas.problem import Problem
from service.api.deps import AUTHORIZED, AuditDep, RuntimeDep
from service.audit.query import latest_checkpoint
from service.errors import InvalidInput, NotFound
from service.statistics.movements import movements
from service.system.status import system_status

router = APIRouter(dependencies=[AUTHORIZED],
                   responses={401: {"model": Problem}, 403: {"model": Problem}})

MAX_MOVEMENT_DAYS = 3 * 366


@router.get("/v1/audit/checkpoints/latest", response_model=AuditCheckpointView,
            tags=["audit"], responses={404: {"model": Problem}})
def last_checkpoint(runtime: RuntimeDep, audit: AuditDep
                    ) -> AuditCheckpointView:
    """The last signed checkpoint of the audit chain, with the key that signed it."""
    if audit is not None:
        audit.purpose = "oversight (Art 41)"
    with runtime.sessions() as session:
        found = latest_checkpoint(session)
    if found is None:
        raise NotFound("no checkpoint has been signed yet")
    return found


def check_period(since: dt.date, until: dt.date) -> None:
    if until <= since:
        raise InvalidInput("`until` must be after `since`")
    if (until - since).days > MAX_MOVEMENT_DAYS:
        raise InvalidInput(f"a period of at most {MAX_MOVEMENT_DAYS} days")


@router.get("/v1/statistics/movements", response_model=MovementsReport, tags=["statistics"])
def movement_flows(
    runtime: RuntimeDep,
    since: Annotated[dt.date, Query(description="first day")],
    until: Annotated[dt.date, Query(description="day after the last")],
    category: Annotated[Category | None, Query(description="searching category")] = None,
) -> MovementsReport:
    """Hits between Member States (anonymous counts, false hits excluded) over a period."""
    check_period(since, until)
    with runtime.sessions() as session:
        return movements(session, since, until, category)


@router.get("/v1/system/status", response_model=SystemStatus, tags=["system"])
def status(runtime: RuntimeDep) -> SystemStatus:
    """Gallery size per partition, writer queue, snapshot age, sweeps, recent errors."""
    return system_status(runtime)
