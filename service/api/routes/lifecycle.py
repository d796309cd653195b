"""Changes to a stored dataset by its Member State of origin (Art 16, 26, 30, 31)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from schemas.lifecycle import (
    DatasetUpdate,
    ErasureReason,
    LifecycleResult,
    MarkRequest,
)
from schemas.problem import Problem
from service.api.deps import AUTHORIZED, AuditDep, CurrentCaller, ReferenceNumberPath, RuntimeDep
from service.lifecycle.changes import amend, erase, extend, set_mark
from service.lifecycle.run import run_command

router = APIRouter(prefix="/v1/datasets/{reference_number}", tags=["lifecycle"],
                   dependencies=[AUTHORIZED],
                   responses={status: {"model": Problem} for status in (401, 403, 404, 422)})


def _done(result: object) -> LifecycleResult:
    assert isinstance(result, LifecycleResult)
    return result


@router.patch("", response_model=LifecycleResult)
async def update_dataset(reference_number: ReferenceNumberPath, body: DatasetUpdate,
                         caller: CurrentCaller, runtime: RuntimeDep, audit: AuditDep
                         ) -> LifecycleResult:
    """Add status information (responsible Member State, transfer, departure, security flag)."""
    return _done(await run_command(runtime.pipeline, amend(reference_number, body, caller,
                                                  runtime.master, audit)))


@router.post("/mark", response_model=LifecycleResult)
async def mark_dataset(reference_number: ReferenceNumberPath, body: MarkRequest,
                       caller: CurrentCaller, runtime: RuntimeDep, audit: AuditDep
                       ) -> LifecycleResult:
    """Mark a dataset: protection granted or residence document issued (Art 31)."""
    return _done(await run_command(runtime.pipeline, set_mark(reference_number, body.reason, caller,
                                                     audit)))


@router.delete("/mark", response_model=LifecycleResult)
async def unmark_dataset(reference_number: ReferenceNumberPath, caller: CurrentCaller,
                         runtime: RuntimeDep, audit: AuditDep) -> LifecycleResult:
    """Remove the mark: the status was revoked or ended."""
    return _done(await run_command(runtime.pipeline, set_mark(reference_number, None, caller,
                                                     audit)))


@router.post("/extend", response_model=LifecycleResult)
async def extend_dataset(reference_number: ReferenceNumberPath, caller: CurrentCaller,
                         runtime: RuntimeDep, audit: AuditDep) -> LifecycleResult:
    """Extend a temporary-protection dataset's retention by one year."""
    return _done(await run_command(runtime.pipeline, extend(reference_number, caller, audit)))


@router.delete("", response_model=LifecycleResult)
async def erase_dataset(
    reference_number: ReferenceNumberPath,
    reason: Annotated[ErasureReason, Query(description="why it is erased in advance")],
    caller: CurrentCaller,
    runtime: RuntimeDep,
    audit: AuditDep,
) -> LifecycleResult:
    """Erase a dataset in advance (Art 30); it stops hitting at once and cannot be recovered."""
    return _done(await run_command(runtime.pipeline, erase(reference_number, reason, caller,
                                                  audit)))
