"""The last errors this process logged, kept in memory for the System view.

Only the event's name and its time are kept: log events never carry personal
data, and their other fields (exception texts included) are left to the log itself.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import deque
from collections.abc import MutableMapping
from typing import Any

from schemas.oversight import RecentError

_KEPT = 50
_ERROR_LEVELS = frozenset({"error", "critical", "exception"})
_lock = threading.Lock()
_recent: deque[RecentError] = deque(maxlen=_KEPT)


def remember_errors(logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
                    ) -> MutableMapping[str, Any]:
    """structlog processor: note error events, pass every event on unchanged."""
    level = str(event_dict.get("level", method_name)).lower()
    if level in _ERROR_LEVELS:
        event = str(event_dict.get("event", ""))[:100]
        entry = RecentError(at=dt.datetime.now(dt.UTC), event=event)
        with _lock:
            _recent.append(entry)
    return event_dict


def recent_errors(limit: int = 20) -> list[RecentError]:
    """The latest errors first."""
    with _lock:
        return list(reversed(_recent))[:limit]
