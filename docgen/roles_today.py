"""Who may call each route, as the code decides today.

The role checks still live in the use cases (`rules/categories.py` for transmissions,
`routes/lifecycle.py`, `routes/statistics.py`, `audit/query.py`, `bulk/callers.py`, the
own-Member-State checks of `datasets.py` and `lifecycle/`). This table states what they do, and
`roles_page.py` refuses to render it unless it names exactly the app's routes. Once the service
has one authorization table of its own, the role page reads that instead (see `roles_page.py`).
"""

from __future__ import annotations

from typing import NamedTuple


class Access(NamedTuple):
    method: str
    path: str
    who: str
    what: str


_ORIGIN = "of the Member State of origin"

ROUTES: tuple[Access, ...] = (
    Access("POST", "/v1/transmissions",
           "officer (every category but 4, 5); law_enforcement (4, 5); operator (stored "
           "categories 0-3, 7 with a decision, 8, 9)",
           "transmit a dataset; 201 when stored, 200 for search-only categories"),
    Access("GET", "/v1/datasets/{reference_number}", f"any role {_ORIGIN}",
           "read back an own dataset (another Member State's answers 404, as a missing one)"),
    Access("PATCH", "/v1/datasets/{reference_number}", f"officer {_ORIGIN}",
           "status updates (Art 16)"),
    Access("DELETE", "/v1/datasets/{reference_number}", f"officer {_ORIGIN}",
           "advance erasure (Art 30), `?reason=citizenship`"),
    Access("POST", "/v1/datasets/{reference_number}/mark", f"officer {_ORIGIN}",
           "mark (Art 31)"),
    Access("DELETE", "/v1/datasets/{reference_number}/mark", f"officer {_ORIGIN}", "unmark"),
    Access("POST", "/v1/datasets/{reference_number}/extend", f"officer {_ORIGIN}",
           "keep a temporary-protection dataset (category 0) one more year"),
    Access("POST", "/v1/hits/{hit_id}/false", "any role of the Member State that received the hit",
           "report a false hit (Art 38(6))"),
    Access("GET", "/v1/notifications", "any role; its own Member State's feed",
           "marks, unmarks, erasures, security flags on datasets linked to its own"),
    Access("POST", "/v1/notifications/{notification_id}/ack",
           "any role; its own Member State's notifications", "acknowledge a notification"),
    Access("GET", "/v1/statistics", "supervisor, admin", "Art 12 statistics, anonymous"),
    Access("GET", "/v1/audit/events", "supervisor (national: its Member State; EU: all)",
           "audit events, filtered and paged"),
    Access("GET", "/v1/audit/datasets/{reference_number}",
           "supervisor (national: its Member State; EU: all)", "who touched this dataset"),
    Access("GET", "/v1/audit/export", "supervisor (national: its Member State; EU: all)",
           "events as JSON Lines, then the signed checkpoints"),
    Access("GET", "/v1/audit/verify", "supervisor", "verify the whole chain"),
    Access("POST", "/v1/bulk/transmissions",
           "operator (a Member State's: its own datasets; EU-level: any, naming `member_state`)",
           "load many datasets (NDJSON), each processed as one transmission"),
    Access("POST", "/v1/evaluation/search", "operator",
           "top candidates whatever their score (synthetic galleries only)"),
    Access("GET", "/v1/audit/checkpoints/latest", "supervisor",
           "the last signed checkpoint and its public key"),
    Access("GET", "/v1/statistics/movements", "supervisor, admin",
           "hits between Member States as anonymous counts (false hits left out)"),
    Access("GET", "/v1/system/status", "operator, admin",
           "gallery size per partition, writer queue, snapshot age, sweeps, recent errors"),
    Access("GET", "/metrics", "operator, admin", "Prometheus metrics (no personal data)"),
    Access("GET", "/healthz", "anyone, no key", "liveness"),
    Access("GET", "/readyz", "anyone, no key", "readiness: the gallery is loaded"),
    Access("GET", "/problems/{slug}", "anyone, no key", "what a problem `type` means"),
)
