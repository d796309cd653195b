"""Reading back a stored dataset."""

from __future__ import annotations

from fastapi import APIRouter

from schemas.dataset import DatasetView
from schemas.problem import Problem
from service.api.deps import AUTHORIZED, AuditDep, CurrentCaller, ReferenceNumberPath, RuntimeDep
from service.datasets.read import read_dataset

router = APIRouter(tags=["datasets"], dependencies=[AUTHORIZED])


@router.get(
    "/v1/datasets/{reference_number}",
    response_model=DatasetView,
    responses={404: {"model": Problem}, 401: {"model": Problem}},
)
def get_dataset(
    reference_number: ReferenceNumberPath, caller: CurrentCaller, runtime: RuntimeDep,
    audit: AuditDep,
) -> DatasetView:
    """Read one of the caller's own Member State's datasets (others answer 404)."""
    if audit is not None:
        audit.purpose = "read own dataset (Art 40)"
        audit.concern(reference_number, caller.member_state, None)
    view = read_dataset(runtime.sessions, runtime.master, reference_number, caller)
    if audit is not None:
        audit.concern(reference_number, caller.member_state, view.retention_until)
    return view
