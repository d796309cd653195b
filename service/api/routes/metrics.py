"""Prometheus metrics for operators and admins (their monitoring's key; docs/deployment.md)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from schemas.codes import Role
from service.api.deps import CurrentCaller, RuntimeDep
from service.errors import Forbidden
from service.metrics.http import CONTENT_TYPE_LATEST, exposition, runtime_registry

router = APIRouter(tags=["operations"])

READERS = (Role.OPERATOR, Role.ADMIN)


@router.get("/metrics", response_class=Response)
async def metrics(request: Request, runtime: RuntimeDep, caller: CurrentCaller) -> Response:
    """The service's metrics in the Prometheus text format (no personal data in any label)."""
    if caller.role not in READERS:
        raise Forbidden("metrics are for operators and admins")
    state = request.app.state
    gauges = getattr(state, "metrics_gauges", None)
    if gauges is None:
        gauges = state.metrics_gauges = runtime_registry(runtime)
    return Response(exposition(gauges), media_type=CONTENT_TYPE_LATEST)
