"""Prometheus metrics for operators and admins (their monitoring's key; docs/deployment.md)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from service.api.deps import AUTHORIZED, RuntimeDep
from service.metrics.http import CONTENT_TYPE_LATEST, exposition, runtime_registry

router = APIRouter(tags=["operations"], dependencies=[AUTHORIZED])


@router.get("/metrics", response_class=Response)
async def metrics(request: Request, runtime: RuntimeDep) -> Response:
    """The service's metrics in the Prometheus text format (no personal data in any label)."""
    state = request.app.state
    gauges = getattr(state, "metrics_gauges", None)
    if gauges is None:
        gauges = state.metrics_gauges = runtime_registry(runtime)
    return Response(exposition(gauges), media_type=CONTENT_TYPE_LATEST)
