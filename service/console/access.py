"""Who may use the console, and which of its pages.

Each page shows what an API route returns, so it admits exactly the roles the service's one
role table (`service.auth.policy`) gives that route: the page names its route, the table decides.
The console itself is for oversight roles only (officers and law enforcement work through
their national systems).
"""

from __future__ import annotations

from enum import StrEnum

from schemas.codes import Role
from service.auth import Caller
from service.auth.policy import access_for, check
from service.errors import Forbidden

CONSOLE_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN, Role.OPERATOR})


class Page(StrEnum):
    AUDIT = "audit"
    INTEGRITY = "integrity"
    STATISTICS = "statistics"
    MOVEMENTS = "movements"
    SYSTEM = "system"


# page -> the API route (method, path) it is a view of
PAGES: dict[Page, tuple[str, str]] = {
    Page.AUDIT: ("GET", "/v1/audit/events"),
    Page.INTEGRITY: ("GET", "/v1/audit/verify"),
    Page.STATISTICS: ("GET", "/v1/statistics"),
    Page.MOVEMENTS: ("GET", "/v1/statistics/movements"),
    Page.SYSTEM: ("GET", "/v1/system/status"),
}


def page_roles(page: Page) -> frozenset[Role]:
    access = access_for(*PAGES[page])
    assert access is not None and access.roles is not None, f"{page} names no keyed route"
    return access.roles


def require_console(caller: Caller) -> None:
    if caller.role not in CONSOLE_ROLES:
        raise Forbidden(f"the console is not for the {caller.role.value} role")


def pages_for(caller: Caller) -> list[Page]:
    return [page for page in PAGES if caller.role in page_roles(page)]


def require_page(caller: Caller, page: Page) -> None:
    require_console(caller)
    method, path = PAGES[page]
    check(method, path, caller, synthetic_deployment=False)
