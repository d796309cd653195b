"""`abis sweep`: erase every dataset whose retention period has ended (Art 29(10))."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from service.audit.events import Operation, finish
from service.cli.common import audit_trail, fail, open_sessions
from service.errors import ServiceError
from service.lifecycle.retention import (
    SWEEP_CHUNK,
    SWEEP_ROUTE,
    erase_expired_chunk,
    system_audit,
)
from service.settings import Settings
from service.store.database import shred


def sweep(
    today: Annotated[str | None, typer.Option(help="Act as if today were YYYY-MM-DD")] = None,
) -> None:
    """Erase expired datasets now (the service also sweeps on a schedule)."""
    settings = Settings()
    try:
        day = dt.date.fromisoformat(today) if today else dt.datetime.now(dt.UTC).date()
        trail = audit_trail(settings)
    except ValueError:
        fail("--today must be YYYY-MM-DD")
    except ServiceError as error:
        fail(error.detail)
    sessions = open_sessions(settings)
    total = 0
    while True:
        audit = system_audit(SWEEP_ROUTE, "retention period ended (Art 29(10))",
                             operation=Operation.EXPIRE)
        now = dt.datetime.now(dt.UTC)
        with sessions.begin() as session:
            erased = erase_expired_chunk(session, day, audit)
            if erased:
                trail.append(session, [finish(audit, 200, now)], now)
        total += len(erased)
        if len(erased) < SWEEP_CHUNK:
            break
    if total:
        shred(sessions.kw["bind"])
    typer.echo(f"erased {total} expired datasets (a running service stops hitting them at once "
               "and drops them from its index at its next start)")
