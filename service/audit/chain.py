"""The hash chain: each event's hash covers its sequence number, the previous hash and the hash
of its canonical body, so modifying, deleting, inserting or reordering events breaks it."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import orjson

GENESIS = "0" * 64


def canonical(body: dict[str, Any]) -> str:
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS).decode()


def body_hash(canonical_body: str) -> str:
    return hashlib.sha256(canonical_body.encode()).hexdigest()


def link_hash(seq: int, prev_hash: str, body_digest: str) -> str:
    return hashlib.sha256(f"abis-audit:{seq}:{prev_hash}:{body_digest}".encode()).hexdigest()


def checkpoint_message(seq: int, chain_hash: str, at: dt.datetime) -> bytes:
    return f"abis-audit-checkpoint:{seq}:{chain_hash}:{at.isoformat()}".encode()
