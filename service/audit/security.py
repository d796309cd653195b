"""Security events: repeated authentication failures from one access point (incident
detection, which the regulation expects within 24 hours).

The writer feeds every refused request's event here; when one client address (as its keyed
hash; the address itself is never kept) fails authentication `threshold` times within
`window` seconds, one `security:auth-failures` event is written to the audit log, at most
once per window per address. Supervisors find them with
`GET /v1/audit/events?operation=security:auth-failures`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import deque

from service.audit.events import WATCH_ROUTE, AuditEvent, Operation, RequestAudit, finish

_MAX_ADDRESSES = 10_000


class AuthFailureWatch:
    """In the single writer thread: no locking."""

    def __init__(self, threshold: int, window_seconds: float) -> None:
        self.threshold = threshold
        self.window = dt.timedelta(seconds=window_seconds)
        self._failures: dict[str, deque[tuple[dt.datetime, str | None]]] = {}
        self._alerted: dict[str, dt.datetime] = {}

    def failed(self, client_hash: str | None, key_id: str | None, at: dt.datetime
               ) -> AuditEvent | None:
        """Note one authentication failure; the security event when it crosses the line."""
        if client_hash is None or self.threshold <= 0:
            return None
        if len(self._failures) >= _MAX_ADDRESSES:
            self._failures.clear()
        recent = self._failures.setdefault(client_hash, deque())
        recent.append((at, key_id))
        while recent and recent[0][0] <= at - self.window:
            recent.popleft()
        last = self._alerted.get(client_hash)
        if len(recent) < self.threshold or (last is not None and at - last < self.window):
            return None
        self._alerted[client_hash] = at
        # An event of the service's own, shaped like every other (the chain's verifier reads
        # them all alike).
        audit = RequestAudit(f"system-{uuid.uuid4().hex}", "SYSTEM", client_hash,
                             route=WATCH_ROUTE, operation=Operation.SECURITY_AUTH_FAILURES)
        audit.purpose = "incident detection: repeated authentication failures"
        audit.problem = "unauthenticated"
        audit.outcome = {
            "failures": len(recent),
            "window_seconds": self.window.total_seconds(),
            # the public ids of the keys tried (never a secret), to tell guessing from a
            # client with a revoked or expired key
            "presented_key_ids": sorted({tried for _, tried in recent if tried}),
        }
        return finish(audit, 401, at)
