"""Each Member State's feed of what it must be told, with acknowledgement."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from schemas.lifecycle import NotificationPage, NotificationView
from schemas.problem import Problem
from service.api.deps import AUTHORIZED, AuditDep, CurrentCaller, RowIdPath, RuntimeDep
from service.lifecycle.notifications import acknowledge, feed

router = APIRouter(prefix="/v1/notifications", tags=["notifications"],
                   dependencies=[AUTHORIZED],
                   responses={401: {"model": Problem}, 404: {"model": Problem}})


@router.get("", response_model=NotificationPage)
def list_notifications(
    caller: CurrentCaller,
    runtime: RuntimeDep,
    audit: AuditDep,
    pending: Annotated[bool, Query(description="only unacknowledged ones")] = True,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> NotificationPage:
    """The caller's Member State's notifications: marks, erasures, security flags."""
    if audit is not None:
        audit.purpose = "notifications of linked datasets"
    with runtime.sessions() as session:
        return NotificationPage(notifications=feed(session, caller, pending, limit))


@router.post("/{notification_id}/ack", response_model=NotificationView)
def acknowledge_notification(notification_id: RowIdPath, caller: CurrentCaller, runtime: RuntimeDep
                             ) -> NotificationView:
    """Acknowledge a notification (idempotent)."""
    with runtime.sessions.begin() as session:
        return acknowledge(session, notification_id, caller, runtime.clock.now())
