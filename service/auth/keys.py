"""Issuing, checking and revoking API keys.

A key reads `abis_<id>_<secret>`: the id finds the row, and only the secret's SHA-256 is
stored (the secret is 256 random bits, so a slow password hash would add nothing).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from schemas.codes import EU_LEVEL, MemberState, Role
from service.auth.caller import Caller
from service.errors import InvalidInput, Unauthenticated
from service.store.models import ApiKeyRow

_PREFIX = "abis"


@dataclass(frozen=True, slots=True)
class IssuedKey:
    key: str  # shown once, never stored
    key_id: str


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_key(
    session: Session,
    *,
    member_state: str,
    role: Role,
    unit: str = "",
    label: str = "",
    expires_at: dt.datetime | None = None,
    now: dt.datetime,
) -> IssuedKey:
    """Store a new key's hash and return the key itself, which is never stored."""
    if member_state != EU_LEVEL and member_state not in MemberState.__members__:
        raise InvalidInput(f"unknown Member State {member_state!r}")
    if member_state == EU_LEVEL and role not in (Role.SUPERVISOR, Role.OPERATOR, Role.ADMIN):
        raise InvalidInput("EU-level keys are for supervisors, operators and admins only")
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    session.add(
        ApiKeyRow(
            id=key_id,
            secret_sha256=_digest(secret),
            member_state=member_state,
            unit=unit or f"{member_state}-{role.value}",
            role=role.value,
            label=label,
            created_at=now,
            expires_at=expires_at,
            revoked_at=None,
        )
    )
    return IssuedKey(key=f"{_PREFIX}_{key_id}_{secret}", key_id=key_id)


def authenticate(session: Session, presented: str | None, now: dt.datetime) -> Caller:
    """The caller a presented key belongs to; every failure looks the same to the client."""
    if not presented:
        raise Unauthenticated("an API key is required: Authorization: Bearer <key>")
    parts = presented.split("_", 2)
    if len(parts) != 3 or parts[0] != _PREFIX:
        raise Unauthenticated("the API key is not valid")
    row = session.get(ApiKeyRow, parts[1])
    if row is None or not hmac.compare_digest(row.secret_sha256, _digest(parts[2])):
        raise Unauthenticated("the API key is not valid")
    return _caller(row, now)


def caller_by_key_id(session: Session, key_id: str, now: dt.datetime) -> Caller:
    """The owner of a key already authenticated (the console's session names it by its id):
    a key revoked or expired since then no longer counts."""
    row = session.get(ApiKeyRow, key_id)
    if row is None:
        raise Unauthenticated("the API key is not valid")
    return _caller(row, now)


def _caller(row: ApiKeyRow, now: dt.datetime) -> Caller:
    if row.revoked_at is not None or (row.expires_at is not None and _aware(row.expires_at) <= now):
        raise Unauthenticated("the API key is not valid")
    return Caller(key_id=row.id, member_state=row.member_state, unit=row.unit, role=Role(row.role))


def _aware(moment: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes even for timezone=True columns; we only ever store UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def revoke_key(session: Session, key_id: str, now: dt.datetime) -> bool:
    row = session.get(ApiKeyRow, key_id)
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = now
    return True


def list_keys(session: Session) -> list[ApiKeyRow]:
    return list(session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.created_at)))
