"""System page: a view of GET /v1/system/status."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from service.api.deps import AuditDep, RuntimeDep
from service.audit.events import Operation
from service.console.access import Page
from service.console.web import show
from service.system.status import system_status

router = APIRouter(prefix="/console", include_in_schema=False)


@router.get("/system")
def system_page(request: Request, runtime: RuntimeDep, audit: AuditDep) -> Response:
    """Gallery, writer queue, snapshot, sweeps and recent errors (GET /v1/system/status)."""
    return show(request, runtime, audit, Page.SYSTEM, Operation.SYSTEM_STATUS,
                lambda caller: ("system.html", {"status": system_status(runtime)}))
