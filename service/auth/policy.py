"""Who may call what: the one table of role x route x own/other Member State.

Everything about access is read from `POLICY`, so nothing can drift:
- the role check of every route (`authorize`, a dependency of every non-public router);
- the generated API docs (`service.api.openapi` writes each operation's `x-abis-access` and
  "Who may call" line from it);
- the README's API table (`markdown_table`; a test fails when the README differs);
- the access-matrix test, which walks every role and Member State against a running service.

A route of the app that is not in the table is refused to every caller (fail closed) and fails
`tests/unit/test_policy.py` by name. To add a route, add one `Access` row below.

Each row names the audit operation its requests are recorded as (`operation`): the row is
where the action is declared, so renaming a route's path keeps its events' name.

How another Member State's data is reached (`Reach`) is enforced by the use case that finds
the data (it alone knows whose a dataset, hit or notification is); the table states it and the
matrix test checks each cell.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from schemas.codes import Role
from service.auth.caller import Caller
from service.errors import Forbidden
from service.operations import Operation


class Reach(StrEnum):
    """What a caller reaches of Member States other than its own through a route."""

    PUBLIC = "no key; no Member State's data"
    OWN = "own only; another's answers 404, exactly as a missing one (Art 40)"
    NATIONAL_OWN_EU_ALL = ("national key: events or datasets of its own Member State only "
                           "(naming another: 403); EU-level key: all")
    COMPARISON = "only as hits of a comparison, as the category's rules say (Art 27(4))"
    ANONYMOUS = "anonymous figures of all, no reference numbers"
    EVALUATION = ("synthetic deployments only (else 403); national key: own datasets whatever "
                  "the score, another's only at a hit's score; EU-level key: all")


@dataclass(frozen=True, slots=True)
class Access:
    method: str
    path: str
    roles: frozenset[Role] | None  # None: public, no key needed
    reach: Reach
    what: str  # one line for the README table
    errors: tuple[int, ...] = ()  # statuses beyond those every operation may answer
    synthetic_only: bool = False  # refused unless ABIS_SYNTHETIC_DEPLOYMENT (docs/security.md)
    operation: Operation = field(kw_only=True)  # the audit event's name (service.operations)

    @property
    def route(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def public(self) -> bool:
        return self.roles is None

    def who(self) -> str:
        if self.roles is None:
            return "anyone"
        return ", ".join(role.value for role in Role if role in self.roles)


_OFFICER = frozenset({Role.OFFICER})
_SUPERVISOR = frozenset({Role.SUPERVISOR})
_OPERATOR = frozenset({Role.OPERATOR})
_DATASET = "/v1/datasets/{reference_number}"

POLICY: tuple[Access, ...] = (
    Access("POST", "/v1/transmissions", frozenset({Role.OFFICER, Role.LAW_ENFORCEMENT}),
           Reach.COMPARISON, "one endpoint for every category (law_enforcement: categories 4 "
           "and 5 only); 201 when stored, 200 for search-only categories", (409, 503),
           operation=Operation.TRANSMIT),
    Access("GET", _DATASET, _OFFICER, Reach.OWN,
           "read back an own dataset, identity data included (only officers need it)", (404,),
           operation=Operation.DATASET_READ),
    Access("PATCH", _DATASET, _OFFICER, Reach.OWN,
           "status updates (Art 16): responsible Member State, transfer/arrival/departure/"
           "removal dates, relocation, security flag", (404,), operation=Operation.AMEND),
    Access("DELETE", _DATASET, _OFFICER, Reach.OWN,
           "advance erasure (Art 30), `?reason=citizenship`", (404,), operation=Operation.ERASE),
    Access("POST", _DATASET + "/mark", _OFFICER, Reach.OWN,
           "mark (`international_protection` for 1, `residence_document` for 2, 3, 9; Art 31)",
           (404,), operation=Operation.MARK),
    Access("DELETE", _DATASET + "/mark", _OFFICER, Reach.OWN, "unmark (Art 31)", (404,),
           operation=Operation.UNMARK),
    Access("POST", _DATASET + "/extend", _OFFICER, Reach.OWN,
           "keep a temporary-protection dataset (0) one more year", (404,),
           operation=Operation.EXTEND),
    Access("POST", "/v1/hits/{hit_id}/false", _OFFICER, Reach.OWN,
           "report a false hit received by the caller's Member State (Art 38(6))", (404,),
           operation=Operation.FALSE_HIT),
    Access("GET", "/v1/notifications", _OFFICER, Reach.OWN,
           "the Member State's feed: marks, unmarks, erasures, security flags on datasets "
           "linked to its own", operation=Operation.NOTIFICATIONS),
    Access("POST", "/v1/notifications/{notification_id}/ack", _OFFICER, Reach.OWN,
           "acknowledge a notification (idempotent)", (404,), operation=Operation.ACKNOWLEDGE),
    Access("GET", "/v1/statistics", frozenset({Role.SUPERVISOR, Role.ADMIN}), Reach.ANONYMOUS,
           "Art 12 statistics, `?month=YYYY-MM[&format=csv]`", operation=Operation.STATISTICS),
    Access("GET", "/v1/audit/events", _SUPERVISOR, Reach.NATIONAL_OWN_EU_ALL,
           "audit events, filtered by `member_state`, `since`, `until`, `operation`, "
           "`reference_number`, `actor` (key id); paged with `after`/`limit`",
           operation=Operation.AUDIT_QUERY),
    Access("GET", "/v1/audit/datasets/{reference_number}", _SUPERVISOR,
           Reach.NATIONAL_OWN_EU_ALL, "who touched this dataset (for a data-subject request)",
           operation=Operation.AUDIT_QUERY),
    Access("GET", "/v1/audit/export", _SUPERVISOR, Reach.NATIONAL_OWN_EU_ALL,
           "the same filters, as JSON Lines, followed by the signed checkpoints", (503,),
           operation=Operation.AUDIT_EXPORT),
    Access("GET", "/v1/audit/verify", _SUPERVISOR, Reach.ANONYMOUS,
           "verify the whole chain; names the first bad event (no event content)", (503,),
           operation=Operation.AUDIT_VERIFY),
    Access("GET", "/v1/audit/checkpoints/latest", _SUPERVISOR, Reach.ANONYMOUS,
           "the last signed checkpoint of the whole chain and the key that signed it", (404,),
           operation=Operation.AUDIT_QUERY),
    Access("GET", "/v1/statistics/movements", frozenset({Role.SUPERVISOR, Role.ADMIN}),
           Reach.ANONYMOUS, "hits between Member States as anonymous counts (false hits left "
           "out), `?since=&until=[&category=]`", operation=Operation.STATISTICS),
    Access("GET", "/v1/system/status", frozenset({Role.OPERATOR, Role.ADMIN}), Reach.ANONYMOUS,
           "gallery size per partition, writer queue, snapshot age, sweeps, recent errors",
           operation=Operation.SYSTEM_STATUS),
    Access("GET", "/metrics", frozenset({Role.OPERATOR, Role.ADMIN}), Reach.ANONYMOUS,
           "Prometheus metrics (no personal data in any label)", operation=Operation.OTHER),
    Access("POST", "/v1/bulk/transmissions", _OPERATOR, Reach.NATIONAL_OWN_EU_ALL,
           "bulk load (NDJSON), each item one transmission", (503,), operation=Operation.BULK_LOAD),
    Access("POST", "/v1/evaluation/search", _OPERATOR, Reach.EVALUATION,
           "accuracy evaluation: top candidates whatever their score", (503,),
           synthetic_only=True, operation=Operation.EVALUATION_SEARCH),
    Access("GET", "/healthz", None, Reach.PUBLIC, "liveness", operation=Operation.OTHER),
    Access("GET", "/readyz", None, Reach.PUBLIC,
           "readiness once the gallery is loaded from the store", (503,),
           operation=Operation.OTHER),
    Access("GET", "/problems/{slug}", None, Reach.PUBLIC, "what a problem `type` means", (404,),
           operation=Operation.OTHER),
    Access("GET", "/openapi.json", None, Reach.PUBLIC, "this API's OpenAPI document",
           operation=Operation.OTHER),
    Access("GET", "/docs", None, Reach.PUBLIC, "interactive API docs", operation=Operation.OTHER),
    Access("GET", "/redoc", None, Reach.PUBLIC, "API reference docs", operation=Operation.OTHER),
)

_BY_ROUTE = {(access.method, access.path): access for access in POLICY}
assert len(_BY_ROUTE) == len(POLICY), "a route appears twice in POLICY"


def access_for(method: str, path: str) -> Access | None:
    """The row of a route (its path template); HEAD is read like GET."""
    return _BY_ROUTE.get(("GET" if method == "HEAD" else method, path))


def operation_for(method: str, path: str) -> Operation:
    """The audit operation the route's row names (`http:request` for a path not in the table);
    exactly the method, so HEAD stays `http:request` as it always was."""
    access = _BY_ROUTE.get((method, path))
    return Operation.OTHER if access is None else access.operation


def check(method: str, path: str, caller: Caller, *, synthetic_deployment: bool) -> Access:
    """The route's row if the caller's role may call it here; else Forbidden (fail closed)."""
    access = access_for(method, path)
    if access is None:
        raise Forbidden("this route has no access rule; nobody may call it")
    if access.roles is not None and caller.role not in access.roles:
        raise Forbidden(f"{method} {path} is for {access.who()}, not {caller.role.value}")
    if access.synthetic_only and not synthetic_deployment:
        raise Forbidden(f"{method} {path} exists only in a synthetic deployment "
                        "(ABIS_SYNTHETIC_DEPLOYMENT, development mode)")
    return access


def _template(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(path)) + "$")


_TEMPLATES = [(_template(access.path), access.method) for access in POLICY]


def allowed_methods(path: str) -> list[str]:
    """Every method the table has for a concrete path (a 405's Allow header)."""
    return sorted({method for template, method in _TEMPLATES if template.match(path)})


def markdown_table() -> str:
    """The README's API table, generated from POLICY (a test keeps the README equal to it)."""
    lines = ["| route | who | other Member States | what |", "|---|---|---|---|"]
    for access in POLICY:
        if access.path in ("/docs", "/redoc"):
            continue
        lines.append(f"| `{access.route}` | {access.who()} | {access.reach.value} | "
                     f"{access.what} |")
    return "\n".join(lines) + "\n"
