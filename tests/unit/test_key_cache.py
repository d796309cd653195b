"""The authenticated-key cache: never a failure, never past the key's expiry or its TTL."""

from __future__ import annotations

import datetime as dt

import pytest

from schemas.codes import Role
from service.auth.cache import KeyCache
from service.auth.caller import Caller

NOW = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)
CALLER = Caller(key_id="abc", member_state="IT", unit="IT-officer", role=Role.OFFICER)


def test_a_cached_key_is_found_and_other_keys_are_not() -> None:
    cache = KeyCache(ttl=60)
    cache.put("abis_abc_secret", CALLER, None)
    assert cache.get("abis_abc_secret", NOW) == CALLER
    assert cache.get("abis_abc_other", NOW) is None


def test_an_entry_never_outlives_the_key() -> None:
    cache = KeyCache(ttl=60)
    cache.put("abis_abc_secret", CALLER, NOW + dt.timedelta(seconds=1))
    assert cache.get("abis_abc_secret", NOW) == CALLER
    assert cache.get("abis_abc_secret", NOW + dt.timedelta(seconds=1)) is None


def test_an_entry_expires_after_the_ttl(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr("service.auth.cache.time.monotonic", lambda: clock[0])
    cache = KeyCache(ttl=5)
    cache.put("abis_abc_secret", CALLER, None)
    clock[0] += 4.9
    assert cache.get("abis_abc_secret", NOW) == CALLER
    clock[0] += 0.2  # a revoked key stops working within the TTL
    assert cache.get("abis_abc_secret", NOW) is None


def test_ttl_zero_turns_the_cache_off() -> None:
    cache = KeyCache(ttl=0)
    cache.put("abis_abc_secret", CALLER, None)
    assert cache.get("abis_abc_secret", NOW) is None
