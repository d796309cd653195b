"""Changes to a stored dataset by its Member State of origin (Art 16, 26, 30, 31)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from schemas.codes import Role
from schemas.lifecycle import (
    DatasetUpdate,
    ErasureReason,
    LifecycleResult,
    MarkRequest,
)
from schemas.problem import Problem
from service.api.deps import AuditDep, CurrentCaller, RuntimeDep
from service.auth import Caller
from service.errors import Forbidden
from service.lifecycle.changes import amend, erase, extend, set_mark
from service.lifecycle.run import run_command

router = APIRouter(prefix="/v1/datasets/{reference_number}", tags=["lifecycle"],
                   responses={status: {"model": Problem} for status in (401, 403, 404, 422)})


def _officer(caller: Caller) -> None:
    if caller.role is not Role.OFFICER:
        raise Forbidden("only officers of the Member State of origin change datasets")


def _done(result: object) -> LifecycleResult:
    assert isinstance(result, LifecycleResult)
    return result


@router.patch("", response_model=LifecycleResult)
async def update_dataset(reference_number: str, body: DatasetUpdate, caller: CurrentCaller,
                         runtime: RuntimeDep, audit: AuditDep) -> LifecycleResult:
    """Add status information (responsible Member State, transfer, departure, security flag)."""
    _officer(caller)
    return _done(await run_command(runtime, amend(reference_number, body, caller,
                                                  runtime.master, audit)))


@router.post("/mark", response_model=LifecycleResult)
async def mark_dataset(reference_number: str, body: MarkRequest, caller: CurrentCaller,
                       runtime: RuntimeDep, audit: AuditDep) -> LifecycleResult:
    """Mark a dataset: protection granted or residence document issued (Art 31)."""
    _officer(caller)
    return _done(await run_command(runtime, set_mark(reference_number, body.reason, caller,
                                                     audit)))


@router.delete("/mark", response_model=LifecycleResult)
async def unmark_dataset(reference_number: str, caller: CurrentCaller, runtime: RuntimeDep,
                         audit: AuditDep) -> LifecycleResult:
    """Remove the mark: the status was revoked or ended."""
    _officer(caller)
    return _done(await run_command(runtime, set_mark(reference_number, None, caller,
                                                     audit)))


@router.post("/extend", response_model=LifecycleResult)
async def extend_dataset(reference_number: str, caller: CurrentCaller, runtime: RuntimeDep,
                         audit: AuditDep) -> LifecycleResult:
    """Extend a temporary-protection dataset's retention by one year."""
    _officer(caller)
    return _done(await run_command(runtime, extend(reference_number, caller, audit)))


@router.delete("", response_model=LifecycleResult)
async def erase_dataset(
    reference_number: str,
    reason: Annotated[ErasureReason, Query(description="why it is erased in advance")],
    caller: CurrentCaller,
    runtime: RuntimeDep,
    audit: AuditDep,
) -> LifecycleResult:
    """Erase a dataset in advance (Art 30); it stops hitting at once and cannot be recovered."""
    _officer(caller)
    return _done(await run_command(runtime, erase(reference_number, reason, caller,
                                                  audit)))
