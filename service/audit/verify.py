"""Verification of the audit chain and its signed checkpoints: names the first bad event."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.audit.chain import GENESIS, body_hash, checkpoint_message, link_hash
from service.audit.keys import public_key_hex
from service.audit.models import AuditCheckpointRow, AuditEventRow
from service.clock import as_utc

_PAGE = 5_000


@dataclass(frozen=True, slots=True)
class Verification:
    ok: bool
    events_checked: int
    checkpoints_checked: int
    last_seq: int
    first_bad_seq: int | None = None
    problem: str | None = None


def _events(session: Session) -> Iterator[AuditEventRow]:
    after = 0
    while True:
        page = list(session.scalars(
            select(AuditEventRow).where(AuditEventRow.seq > after)
            .order_by(AuditEventRow.seq).limit(_PAGE)
        ))
        if not page:
            return
        yield from page
        after = page[-1].seq
        session.expunge_all()


def _event_problem(row: AuditEventRow, expected_seq: int, prev_hash: str) -> str | None:
    if row.seq != expected_seq:
        return f"expected event {expected_seq} next, found {row.seq}: events deleted or inserted"
    digest = row.body_hash if row.body is None else body_hash(row.body)
    if digest != row.body_hash:
        return "the event's content does not match its hash: modified"
    if row.prev_hash != prev_hash:
        return "the event does not follow its predecessor: deleted, inserted or reordered"
    if link_hash(row.seq, row.prev_hash, digest) != row.hash:
        return "the event's chain hash is wrong: modified"
    if row.body is not None:
        body = orjson.loads(row.body)
        actor = body["actor"] or {}
        columns = (row.operation, row.actor_member_state, row.actor_key_id)
        if columns != (body["operation"], actor.get("member_state"), actor.get("key_id")):
            return "the event's columns differ from its hashed content: modified"
    return None


def verify_chain(session: Session, trusted: Iterable[Ed25519PublicKey]) -> Verification:
    """Walk every event in order and check every checkpoint against the events. A checkpoint
    must be signed by one of the `trusted` keys (the current and retired audit keys), the one
    its row names."""
    by_hex = {public_key_hex(key): key for key in trusted}
    checkpoints = list(session.scalars(select(AuditCheckpointRow).order_by(AuditCheckpointRow.seq)))
    at_seq: dict[int, list[AuditCheckpointRow]] = {}
    for checkpoint in checkpoints:
        message = checkpoint_message(checkpoint.seq, checkpoint.hash, as_utc(checkpoint.at))
        public_key = by_hex.get(checkpoint.public_key)
        if public_key is None:
            return Verification(False, 0, 0, 0, checkpoint.seq,
                                f"checkpoint at event {checkpoint.seq} is signed by a key that "
                                f"is not trusted ({checkpoint.public_key[:16]}...)")
        try:
            public_key.verify(bytes.fromhex(checkpoint.signature), message)
        except (InvalidSignature, ValueError):
            return Verification(False, 0, 0, 0, checkpoint.seq,
                                f"checkpoint at event {checkpoint.seq} has a bad signature")
        at_seq.setdefault(checkpoint.seq, []).append(checkpoint)
    prev_hash, expected, checked = GENESIS, 1, 0
    for row in _events(session):
        problem = _event_problem(row, expected, prev_hash)
        if problem is None and any(c.hash != row.hash for c in at_seq.pop(row.seq, [])):
            problem = "the event differs from what a signed checkpoint recorded: chain rewritten"
        if problem is not None:
            return Verification(False, checked, len(checkpoints), expected - 1, expected, problem)
        prev_hash, expected, checked = row.hash, expected + 1, checked + 1
    if at_seq:
        missing = min(at_seq)
        return Verification(False, checked, len(checkpoints), expected - 1, expected,
                            f"a signed checkpoint covers event {missing}, which is missing: "
                            "events deleted from the end")
    return Verification(True, checked, len(checkpoints), expected - 1)
