"""Who reads the anonymous statistics (Art 12) and the movements derived from hits."""

from __future__ import annotations

from schemas.codes import Role
from service.auth import Caller
from service.errors import Forbidden

STATISTICS_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN})


def require_statistics_reader(caller: Caller) -> None:
    if caller.role not in STATISTICS_ROLES:
        raise Forbidden("statistics are for supervisors and admins")
