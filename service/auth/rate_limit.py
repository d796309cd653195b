"""Per-key rate limits: a token bucket per API key, in this process.

Each key may make `per_minute` requests a minute, in bursts of up to as many; beyond that it
gets 429 with Retry-After until its bucket refills. Keys, not client addresses: an access
point sits behind its Member State's gateway, so addresses say little, and a key is what a
runaway client or a stolen credential shares. 0 turns the limit off.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

_MAX_KEYS = 100_000  # distinct authenticated keys are few; a flood of them just resets


class RateLimiter:
    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key id -> (tokens, at)
        self._lock = threading.Lock()

    def wait(self, key_id: str) -> float:
        """Take one request from the key's bucket: 0.0 if allowed, else seconds to wait."""
        if self.per_minute <= 0:
            return 0.0
        rate = self.per_minute / 60.0
        now = self._clock()
        with self._lock:
            if len(self._buckets) >= _MAX_KEYS:
                self._buckets.clear()
            tokens, at = self._buckets.get(key_id, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - at) * rate)
            if tokens >= 1.0:
                self._buckets[key_id] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key_id] = (tokens, now)
            return (1.0 - tokens) / rate
