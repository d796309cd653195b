from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from schemas.codes import Role
from service.auth import authenticate, issue_key, revoke_key
from service.errors import InvalidInput, Unauthenticated
from service.store.database import make_engine, make_sessions
from service.store.models import ApiKeyRow
from service.store.schema import upgrade

NOW = dt.datetime(2026, 11, 24, tzinfo=dt.UTC)


@pytest.fixture
def session() -> Session:
    engine = make_engine("sqlite://")
    upgrade(engine)
    return make_sessions(engine)()


def test_issued_key_authenticates_and_only_its_hash_is_stored(session: Session) -> None:
    issued = issue_key(session, member_state="DE", role=Role.OFFICER, now=NOW)
    caller = authenticate(session, issued.key, NOW)
    assert (caller.member_state, caller.role) == ("DE", Role.OFFICER)
    row = session.get(ApiKeyRow, issued.key_id)
    assert row is not None and issued.key.split("_", 2)[2] not in row.secret_sha256


@pytest.mark.parametrize("presented", [None, "", "nope", "abis_x_y", "Bearer abis"])
def test_malformed_or_unknown_keys_are_refused(session: Session, presented: str | None) -> None:
    with pytest.raises(Unauthenticated):
        authenticate(session, presented, NOW)


def test_wrong_secret_expired_and_revoked_keys_are_refused(session: Session) -> None:
    issued = issue_key(session, member_state="IT", role=Role.OFFICER, now=NOW,
                       expires_at=NOW + dt.timedelta(days=1))
    with pytest.raises(Unauthenticated):
        authenticate(session, issued.key[:-2] + "xx", NOW)
    assert authenticate(session, issued.key, NOW + dt.timedelta(hours=23))
    with pytest.raises(Unauthenticated):
        authenticate(session, issued.key, NOW + dt.timedelta(days=1))
    assert revoke_key(session, issued.key_id, NOW)
    with pytest.raises(Unauthenticated):
        authenticate(session, issued.key, NOW)


def test_unknown_member_state_and_eu_officers_are_refused(session: Session) -> None:
    with pytest.raises(InvalidInput):
        issue_key(session, member_state="XX", role=Role.OFFICER, now=NOW)
    with pytest.raises(InvalidInput):
        issue_key(session, member_state="EU", role=Role.OFFICER, now=NOW)
    assert issue_key(session, member_state="EU", role=Role.SUPERVISOR, now=NOW)
