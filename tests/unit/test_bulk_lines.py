"""Splitting a streamed NDJSON body into lines, whose datasets an operator key loads, and what
an item refused by the service says."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from schemas.codes import Role
from service.auth import Caller
from service.bulk.callers import caller_for
from service.bulk.ingest import _problem, split_lines
from service.errors import Forbidden, NotReady, ServiceError


async def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def _split(limit: int, *parts: bytes) -> list[bytes | None]:
    async def collect() -> list[bytes | None]:
        return [line async for line in split_lines(_chunks(*parts), limit)]

    return asyncio.run(collect())


def test_lines_span_chunks_and_the_last_needs_no_newline() -> None:
    assert _split(100, b'{"a"', b":1}\n{", b'"b":2}\n\n{"c":3}') == [
        b'{"a":1}', b'{"b":2}', b"", b'{"c":3}']


def test_a_line_over_the_limit_is_dropped_alone_without_being_kept() -> None:
    assert _split(8, b"short\n", b"x" * 5, b"x" * 50, b"\nok\n") == [b"short", None, b"ok"]
    assert _split(8, b"x" * 20) == [None]


def test_member_state_keys_load_their_own_eu_keys_must_name_one() -> None:
    italy = Caller("k1", "IT", "it-ops", Role.OPERATOR)
    assert caller_for(italy, None) is italy
    assert caller_for(italy, "IT") is italy
    with pytest.raises(Forbidden):
        caller_for(italy, "DE")
    eu = Caller("k2", "EU", "eu-ops", Role.OPERATOR)
    assert caller_for(eu, "DE") == Caller("k2", "DE", "eu-ops", Role.OPERATOR)
    with pytest.raises(Forbidden):
        caller_for(eu, None)


def test_a_not_ready_item_says_why_and_an_internal_error_is_masked() -> None:
    busy = _problem(NotReady("the writer did not answer in time; retry"))
    assert (busy.status, busy.detail) == (503, "the writer did not answer in time; retry")
    failed = _problem(ServiceError("database password rejected"))
    assert failed.status == 500 and "password" not in (failed.detail or "")
