"""Who may use the console, and which of its pages: the one place for the console's role rules.

Each page shows what an API route returns, so it admits exactly the roles that route admits;
the use-case functions the pages call check the same rules again (and scope a national
supervisor to its Member State), so this table only decides what the menu shows and refuses
early with a readable page. Fold it into the service's role table when there is one.
"""

from __future__ import annotations

from enum import StrEnum

from schemas.codes import Role
from service.auth import Caller
from service.errors import Forbidden

# Officers and law enforcement work through their national systems, never the console.
CONSOLE_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN, Role.OPERATOR})


class Page(StrEnum):
    AUDIT = "audit"
    INTEGRITY = "integrity"
    STATISTICS = "statistics"
    MOVEMENTS = "movements"
    SYSTEM = "system"


# page -> (roles, the API route it is a view of)
PAGES: dict[Page, tuple[frozenset[Role], str]] = {
    Page.AUDIT: (frozenset({Role.SUPERVISOR}), "GET /v1/audit/events"),
    Page.INTEGRITY: (frozenset({Role.SUPERVISOR}), "GET /v1/audit/verify"),
    Page.STATISTICS: (frozenset({Role.SUPERVISOR, Role.ADMIN}), "GET /v1/statistics"),
    Page.MOVEMENTS: (frozenset({Role.SUPERVISOR, Role.ADMIN}), "GET /v1/statistics/movements"),
    Page.SYSTEM: (frozenset({Role.ADMIN, Role.OPERATOR}), "GET /v1/system/status"),
}


def require_console(caller: Caller) -> None:
    if caller.role not in CONSOLE_ROLES:
        raise Forbidden(f"the console is not for the {caller.role.value} role")


def pages_for(caller: Caller) -> list[Page]:
    return [page for page, (roles, _) in PAGES.items() if caller.role in roles]


def require_page(caller: Caller, page: Page) -> None:
    require_console(caller)
    if caller.role not in PAGES[page][0]:
        raise Forbidden(f"the {page.value} page is not for the {caller.role.value} role")
