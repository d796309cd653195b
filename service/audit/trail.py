"""The only writer of audit rows: appends events to the chain and signs checkpoints.

The head of the chain (last sequence number and hash) lives here; it moves only once the
transaction that wrote the events has committed, so a rolled-back batch leaves no gap.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from service.audit.chain import GENESIS, body_hash, canonical, checkpoint_message, link_hash
from service.audit.events import AuditEvent
from service.audit.keys import AuditKeys
from service.audit.models import AuditCheckpointRow, AuditEventRow, AuditSubjectRow
from service.clock import as_utc


@dataclass(frozen=True, slots=True)
class Head:
    seq: int
    hash: str


@dataclass(frozen=True, slots=True)
class Appended:
    """What a transaction will have written once committed."""

    head: Head
    signed: bool  # a checkpoint of `head` is part of it


class AuditTrail:
    def __init__(self, keys: AuditKeys, *, checkpoint_every: int, checkpoint_seconds: float
                 ) -> None:
        self.keys = keys
        self._every = checkpoint_every
        self._interval = dt.timedelta(seconds=checkpoint_seconds)
        self._head = Head(0, GENESIS)
        self._checkpointed = Head(0, GENESIS)
        self._checkpointed_at: dt.datetime | None = None
        self._lock = threading.Lock()

    def load_head(self, sessions: sessionmaker[Session]) -> None:
        with sessions() as session:
            last = session.scalars(
                select(AuditEventRow).order_by(AuditEventRow.seq.desc()).limit(1)
            ).first()
            checkpoint = session.scalars(
                select(AuditCheckpointRow).order_by(AuditCheckpointRow.seq.desc()).limit(1)
            ).first()
        if last is not None:
            self._head = Head(last.seq, last.hash)
        if checkpoint is not None:
            self._checkpointed = Head(checkpoint.seq, checkpoint.hash)
            self._checkpointed_at = as_utc(checkpoint.at)

    @property
    def head(self) -> Head:
        return self._head

    @property
    def checkpointed_at(self) -> dt.datetime | None:
        """When the last checkpoint was signed (None: never)."""
        return self._checkpointed_at

    @property
    def unsigned_events(self) -> int:
        return self._head.seq - self._checkpointed.seq

    def append(self, session: Session, events: Sequence[AuditEvent], now: dt.datetime
               ) -> Appended:
        """Add `events` to the session after the current head.

        Call `advance` with the result once the transaction has committed.
        """
        # The head is read inside the transaction, so another writer (a CLI job) never forks the
        # chain: a concurrent append either waits for the database's write lock or fails on
        # the sequence number's primary key and is retried.
        last = session.execute(
            select(AuditEventRow.seq, AuditEventRow.hash).order_by(AuditEventRow.seq.desc())
            .limit(1)
        ).first()
        head = Head(last.seq, last.hash) if last is not None else Head(0, GENESIS)
        # Plain rows, inserted in one executemany per table: building ORM objects for every
        # event cost more than hashing them (load tests, README "Load tests").
        rows: list[dict[str, object]] = []
        subjects: list[dict[str, object]] = []
        for event in events:
            text = canonical(event.body)
            digest = body_hash(text)
            seq = head.seq + 1
            chained = link_hash(seq, head.hash, digest)
            rows.append({
                "seq": seq,
                "at": event.at,
                "operation": event.operation,
                "actor_member_state": event.actor_member_state,
                "actor_key_id": event.actor_key_id,
                "purge_after": event.purge_after,
                "body": text,
                "body_hash": digest,
                "prev_hash": head.hash,
                "hash": chained,
            })
            subjects += [{"seq": seq, "kind": "rn", "value": v} for v in event.reference_numbers]
            subjects += [{"seq": seq, "kind": "ms", "value": v} for v in event.member_states]
            head = Head(seq, chained)
        if rows:  # events before their subjects: the subjects reference them
            session.execute(insert(AuditEventRow), rows)
        if subjects:
            session.execute(insert(AuditSubjectRow), subjects)
        signed = self._checkpoint_due(head, now)
        if signed:
            session.add(self.sign(head, now))
        return Appended(head, signed)

    def advance(self, appended: Appended, now: dt.datetime) -> None:
        with self._lock:
            if appended.signed:
                self._checkpointed, self._checkpointed_at = appended.head, now
            self._head = appended.head

    def _checkpoint_due(self, head: Head, now: dt.datetime) -> bool:
        if head.seq <= self._checkpointed.seq:
            return False
        if head.seq - self._checkpointed.seq >= self._every:
            return True
        return self._checkpointed_at is None or now - self._checkpointed_at >= self._interval

    def sign(self, head: Head, now: dt.datetime) -> AuditCheckpointRow:
        signature = self.keys.signing_key.sign(checkpoint_message(head.seq, head.hash, now))
        return AuditCheckpointRow(
            seq=head.seq,
            hash=head.hash,
            at=now,
            public_key=self.keys.public_key_hex,
            signature=signature.hex(),
        )

    def checkpoint_now(self, sessions: sessionmaker[Session], now: dt.datetime) -> None:
        """Sign the chain's head (at shutdown, so the last events are covered)."""
        with sessions.begin() as session:
            last = session.execute(
                select(AuditEventRow.seq, AuditEventRow.hash)
                .order_by(AuditEventRow.seq.desc()).limit(1)
            ).first()
            if last is None or last.seq <= self._checkpointed.seq:
                return
            head = Head(last.seq, last.hash)
            session.add(self.sign(head, now))
        self._checkpointed, self._checkpointed_at = head, now
