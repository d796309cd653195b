"""POST /v1/transmissions: one endpoint for every category."""

from __future__ import annotations

from fastapi import APIRouter, Response

from schemas.problem import Problem
from schemas.transmission import TransmissionRequest, TransmissionResult
from service.api.deps import AUTHORIZED, AuditDep, CurrentCaller, RuntimeDep
from service.transmission.service import transmit

router = APIRouter(tags=["transmissions"], dependencies=[AUTHORIZED])

_PROBLEMS: dict[int | str, dict[str, object]] = {
    status: {"model": Problem, "content": {"application/problem+json": {}}}
    for status in (401, 403, 409, 413, 422, 503)
}


@router.post(
    "/v1/transmissions",
    response_model=TransmissionResult,
    responses={201: {"model": TransmissionResult}, **_PROBLEMS},
)
async def post_transmission(
    body: TransmissionRequest,
    caller: CurrentCaller,
    runtime: RuntimeDep,
    audit: AuditDep,
    response: Response,
) -> TransmissionResult:
    """Transmit a dataset: compare it with the gallery and store it when its category is stored."""
    result = await transmit(runtime, body, caller, audit)
    if result.stored:
        response.status_code = 201
        response.headers["Location"] = f"/v1/datasets/{result.reference_number}"
    return result
