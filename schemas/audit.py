"""Audit events as supervisors read them: references and fingerprints, never personal data."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict


class AuditEventView(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    seq: int
    at: dt.datetime
    hash: str
    prev_hash: str
    body_hash: str
    purged: bool
    event: dict[str, Any] | None  # the canonical body; None once purged


class AuditEventPage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    events: list[AuditEventView]
    next_after: int | None  # pass as `after` for the next page


class AuditCheckpointView(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    seq: int
    hash: str
    at: dt.datetime
    public_key: str
    signature: str


class AuditVerification(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    ok: bool
    events_checked: int
    checkpoints_checked: int
    last_seq: int
    first_bad_seq: int | None
    problem: str | None
    public_key: str
