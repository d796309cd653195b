"""False-hit reports by the Member State that received the hit (Art 38(6))."""

from __future__ import annotations

from fastapi import APIRouter

from schemas.lifecycle import FalseHitReport
from schemas.problem import Problem
from service.api.deps import AUTHORIZED, AuditDep, CurrentCaller, RowIdPath, RuntimeDep
from service.lifecycle.false_hits import report_false_hit
from service.lifecycle.run import run_command

router = APIRouter(prefix="/v1/hits", tags=["hits"], dependencies=[AUTHORIZED],
                   responses={401: {"model": Problem}, 404: {"model": Problem}})


@router.post("/{hit_id}/false")
async def false_hit(hit_id: RowIdPath, body: FalseHitReport, caller: CurrentCaller,
                    runtime: RuntimeDep, audit: AuditDep) -> dict[str, object]:
    """Report a hit as false: the sequence is unlinked and the statistic counts it."""
    result = await run_command(runtime.pipeline, report_false_hit(hit_id, caller, audit))
    assert isinstance(result, dict)
    return result
