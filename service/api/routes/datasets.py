"""Reading back a stored dataset."""

from __future__ import annotations

from fastapi import APIRouter

from schemas.dataset import DatasetView
from schemas.problem import Problem
from service.api.deps import CurrentCaller, RuntimeDep
from service.datasets import read_dataset

router = APIRouter(tags=["datasets"])


@router.get(
    "/v1/datasets/{reference_number}",
    response_model=DatasetView,
    responses={404: {"model": Problem}, 401: {"model": Problem}},
)
def get_dataset(reference_number: str, caller: CurrentCaller, runtime: RuntimeDep) -> DatasetView:
    """Read one of the caller's own Member State's datasets (others answer 404)."""
    return read_dataset(runtime, reference_number, caller)
