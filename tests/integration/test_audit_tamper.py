"""Tampering with the audit log directly in the database is detected, and the first bad event is
named. The triggers must be dropped first, as an attacker with database rights would."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session, sessionmaker

from schemas.codes import Role
from service.audit.chain import body_hash, link_hash
from service.audit.events import RequestAudit, finish
from service.audit.keys import keys_from_seed
from service.audit.purge import purge_expired
from service.audit.trail import AuditTrail
from service.audit.triggers import install_triggers
from service.audit.verify import verify_chain
from service.auth import Caller
from service.store.database import make_engine, make_sessions
from service.store.schema import upgrade

KEYS = keys_from_seed(os.urandom(32))
T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
EVENTS = 12


@pytest.fixture(scope="module")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


def _drop_triggers(connection: Connection) -> None:
    if connection.dialect.name == "sqlite":
        for name in ("audit_events_no_update", "audit_events_no_delete",
                     "audit_subjects_no_update", "audit_subjects_no_delete",
                     "audit_checkpoints_no_update", "audit_checkpoints_no_delete"):
            connection.execute(text(f"DROP TRIGGER IF EXISTS {name}"))
    else:
        for table in ("audit_events", "audit_subjects", "audit_checkpoints"):
            connection.execute(text(f"DROP TRIGGER IF EXISTS {table}_guard ON {table}"))


@pytest.fixture
def chain(engine: Engine) -> sessionmaker[Session]:
    """A fresh chain of EVENTS events; checkpoints are signed at events 1, 6 and 11."""
    with engine.begin() as connection:
        _drop_triggers(connection)
        for table in ("audit_subjects", "audit_checkpoints", "audit_events"):
            connection.execute(text(f"DELETE FROM {table}"))
        install_triggers(connection)
    sessions = make_sessions(engine)
    trail = AuditTrail(KEYS, checkpoint_every=5, checkpoint_seconds=3600)
    caller = Caller("k1", "DE", "DE-unit", Role.OFFICER)
    for index in range(EVENTS):
        audit = RequestAudit(f"req{index}", "GET", "clienthash", route="/v1/datasets/{x}")
        audit.caller = caller
        audit.concern(f"DE1REF{index}", "DE", dt.date(2026, 6, 1) if index < 4 else None)
        at = T0 + dt.timedelta(minutes=index)
        with sessions.begin() as session:
            appended = trail.append(session, [finish(audit, 200, at)], at)
        trail.advance(appended, at)
    return sessions


def _tamper(sessions: sessionmaker[Session], *statements: str) -> None:
    """Drop the triggers and the subjects (they reference events and are not chained), then
    run `statements`."""
    with sessions.begin() as session:
        _drop_triggers(session.connection())
        session.execute(text("DELETE FROM audit_subjects"))
        for statement in statements:
            session.execute(text(statement))


def _verify(sessions: sessionmaker[Session]) -> tuple[bool, int | None, str | None]:
    with sessions() as session:
        result = verify_chain(session, [KEYS.public_key])
    return result.ok, result.first_bad_seq, result.problem


def test_an_untouched_chain_verifies(chain: sessionmaker[Session]) -> None:
    with chain() as session:
        result = verify_chain(session, [KEYS.public_key])
    assert result.ok and result.events_checked == EVENTS and result.checkpoints_checked >= 2


def test_the_triggers_refuse_update_and_delete(chain: sessionmaker[Session]) -> None:
    for statement in ("UPDATE audit_events SET operation = 'x' WHERE seq = 3",
                      "DELETE FROM audit_events WHERE seq = 3",
                      "UPDATE audit_checkpoints SET hash = 'x'",
                      "DELETE FROM audit_subjects"):
        with pytest.raises(DatabaseError, match="append-only"), chain.begin() as session:
            session.execute(text(statement))
    assert _verify(chain)[0]


TAMPERING: dict[str, tuple[list[str], int]] = {
    "modified": (["UPDATE audit_events SET body = replace(body, 'req6', 'reqX') WHERE seq = 7"],
                 7),
    "modified column": (["UPDATE audit_events SET actor_member_state = 'FR' WHERE seq = 4"], 4),
    "deleted": (["DELETE FROM audit_events WHERE seq = 5"], 5),
    "inserted": (["UPDATE audit_events SET seq = seq + 1000 WHERE seq >= 9",
                  "UPDATE audit_events SET seq = seq - 999 WHERE seq >= 1000",
                  "INSERT INTO audit_events (seq, at, operation, purge_after, body, body_hash, "
                  "prev_hash, hash) SELECT 9, at, operation, purge_after, body, body_hash, "
                  "prev_hash, hash FROM audit_events WHERE seq = 8"], 9),
    "reordered": (["UPDATE audit_events SET seq = 1000 WHERE seq = 3",
                   "UPDATE audit_events SET seq = 3 WHERE seq = 4",
                   "UPDATE audit_events SET seq = 4 WHERE seq = 1000"], 3),
    "deleted from the end": (["DELETE FROM audit_events WHERE seq >= 10"], 10),
    # The first byte changed whatever it was (a signature starting with 00 happens 1 in 256).
    "forged checkpoint": (["UPDATE audit_checkpoints SET signature = CASE WHEN "
                           "substr(signature, 1, 2) = '00' THEN 'ff' ELSE '00' END || "
                           "substr(signature, 3) WHERE seq = 6"], 6),
}


@pytest.mark.parametrize("how", list(TAMPERING))
def test_tampering_is_detected_and_the_first_bad_event_named(
    chain: sessionmaker[Session], how: str
) -> None:
    statements, first_bad = TAMPERING[how]
    _tamper(chain, *statements)
    ok, bad, problem = _verify(chain)
    assert not ok, how
    assert bad == first_bad, (how, problem)
    assert problem


def test_a_consistently_rewritten_chain_contradicts_its_signed_checkpoints(
    chain: sessionmaker[Session],
) -> None:
    """An attacker who recomputes every hash after changing event 2 still fails at the
    checkpoint: the signature covers the old hash."""
    with chain.begin() as session:
        _drop_triggers(session.connection())
        rows = session.execute(text("SELECT seq, body, prev_hash FROM audit_events ORDER BY seq"))
        previous = "0" * 64
        for seq, body, _ in list(rows):
            if seq == 2:
                body = body.replace("req1", "reqZ")
            digest = body_hash(body)
            chained = link_hash(seq, previous, digest)
            session.execute(
                text("UPDATE audit_events SET body=:b, body_hash=:d, prev_hash=:p, hash=:h "
                     "WHERE seq=:s"),
                {"b": body, "d": digest, "p": previous, "h": chained, "s": seq},
            )
            previous = chained
    ok, bad, problem = _verify(chain)
    assert not ok
    assert bad == 6 and "checkpoint" in (problem or "")


def test_purge_blanks_expired_events_and_the_chain_still_verifies(
    chain: sessionmaker[Session],
) -> None:
    # Events 1-4 concern data kept until 2026-06-01, so they go one year after that; the
    # others concern nothing kept, so they go one year after they happened (2027-01-01).
    with chain.begin() as session:
        assert purge_expired(session, dt.date(2027, 1, 1)) == 0
    with chain.begin() as session:
        assert purge_expired(session, dt.date(2027, 1, 2)) == EVENTS - 4
    with chain() as session:
        bodies = session.execute(text("SELECT seq, body FROM audit_events ORDER BY seq")).all()
        subjects = session.execute(text("SELECT count(*) FROM audit_subjects")).scalar_one()
    assert [seq for seq, body in bodies if body is not None] == [1, 2, 3, 4]
    assert subjects == 4 * 2  # a reference number and a Member State each
    assert _verify(chain)[0]
    with chain.begin() as session:
        assert purge_expired(session, dt.date(2027, 6, 2)) == 4
    assert _verify(chain)[0]
    with pytest.raises(DatabaseError, match="append-only"), chain.begin() as session:
        session.execute(text("UPDATE audit_events SET body = NULL, operation = NULL, "
                             "actor_member_state = NULL, actor_key_id = NULL WHERE seq = 1"))


