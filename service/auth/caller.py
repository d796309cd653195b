"""The authenticated caller, attached to every request and every audit record."""

from __future__ import annotations

from dataclasses import dataclass

from schemas.codes import Role


@dataclass(frozen=True, slots=True)
class Caller:
    key_id: str
    member_state: str  # a Member State code, or "EU" for EU-level keys
    unit: str
    role: Role
