"""Liveness and readiness for orchestrators."""

from __future__ import annotations

from fastapi import APIRouter

from service.api.deps import RuntimeDep
from service.errors import NotReady

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(runtime: RuntimeDep) -> dict[str, object]:
    """Readiness: the gallery is loaded from the store and transmissions are taken."""
    if not runtime.ready.is_set():
        raise NotReady("the gallery is still loading")
    return {"status": "ready", "datasets": len(runtime.gallery)}
