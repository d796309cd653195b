"""A short-lived cache of authenticated keys, so a busy access point is not looked up per request.

Checking a key costs a database session, a query and a thread hop; under load that was about a
seventh of the service's CPU (measured with the load tests, README "Load tests"). Only keys
that authenticated are cached, for at most `ttl` seconds and never past their own expiry: a new
key works at once, a revoked one stops working within `ttl` seconds (0 turns the cache off).
Entries are found by the SHA-256 of the presented key, so the cache holds no secret.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import time

from service.auth.caller import Caller

_MAX_ENTRIES = 10_000  # access points are few; a flood of distinct valid keys just evicts


class KeyCache:
    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._entries: dict[bytes, tuple[Caller, dt.datetime | None, float]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _slot(presented: str) -> bytes:
        return hashlib.sha256(presented.encode()).digest()

    def get(self, presented: str, now: dt.datetime) -> Caller | None:
        if self.ttl <= 0:
            return None
        slot = self._slot(presented)
        entry = self._entries.get(slot)
        if entry is None:
            return None
        caller, expires_at, until = entry
        if time.monotonic() >= until or (expires_at is not None and expires_at <= now):
            with self._lock:
                self._entries.pop(slot, None)
            return None
        return caller

    def put(self, presented: str, caller: Caller, expires_at: dt.datetime | None) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            if len(self._entries) >= _MAX_ENTRIES:
                self._entries.clear()
            self._entries[self._slot(presented)] = (caller, expires_at,
                                                    time.monotonic() + self.ttl)
