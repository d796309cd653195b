"""Key rings and the master-key re-wrap: rows opened by the key they name, re-wrapped by the
current one, and a dataset amended during the rotation left as the service wrote it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

import matcher
from service.audit.keys import (
    generate_audit_key_file,
    keys_from_seed,
    load_audit_keys,
    public_key_hex,
)
from service.crypto import MasterKey, load_master_key, open_sealed, seal
from service.crypto.master_key import generate_key_file
from service.datasets.sealed import open_details, require_key_opens_store
from service.errors import ConfigurationError
from service.gallery.snapshot import SnapshotError, load_snapshot, snapshot_key_id, write_snapshot
from service.lifecycle.rewrap import rewrap_datasets
from service.settings import Settings
from service.store.database import make_engine, make_sessions
from service.store.models import DatasetRow
from service.store.schema import upgrade
from tests.unit.test_snapshot import CONFIG, FAST, _gallery, _insert, _templates


def test_a_ring_wraps_with_the_current_key_and_opens_with_the_named_one() -> None:
    old, new = os.urandom(32), os.urandom(32)
    sealed = seal(MasterKey(old), b"DE1A", b"payload")
    ring = MasterKey(new, retired=(old,))
    assert open_sealed(ring, b"DE1A", sealed) == b"payload"
    assert seal(ring, b"DE1A", b"x").key_id == ring.key_id == MasterKey(new).key_id
    with pytest.raises(InvalidUnwrap):
        open_sealed(MasterKey(new), b"DE1A", sealed)  # the retired key dropped too early


def test_the_ring_is_loaded_from_the_current_and_retired_key_files(tmp_path: Path) -> None:
    generate_key_file(tmp_path / "old.key")
    generate_key_file(tmp_path / "new.key")
    old = load_master_key(Settings(data_dir=tmp_path, master_key_file=tmp_path / "old.key"))
    ring = load_master_key(Settings(
        data_dir=tmp_path, master_key_file=tmp_path / "new.key",
        retired_master_key_files=f"{tmp_path / 'old.key'}, {tmp_path / 'new.key'}"))
    assert ring.retired_ids == [old.key_id] and ring.key_ids == {old.key_id, ring.key_id}
    with pytest.raises(ConfigurationError, match="retired master key file .* does not exist"):
        load_master_key(Settings(data_dir=tmp_path, master_key_file=tmp_path / "new.key",
                                 retired_master_key_files=str(tmp_path / "gone.key")))


@dataclass(frozen=True)
class _AmendingDuringRotation(MasterKey):
    """Re-seals dataset `victim` under the current key (as the service's amend does) the moment
    the rotation has read it and is about to re-wrap it."""

    sessions: sessionmaker[Session] | None = None
    victim: int = 0

    def unwrap(self, wrapped: bytes, key_id: str | None = None) -> bytes:
        assert self.sessions is not None
        with self.sessions.begin() as session:
            row = session.get(DatasetRow, self.victim)
            assert row is not None
            if row.key_id != self.key_id:
                fresh = seal(MasterKey(self.key), b"unused", b"")
                row.key_id, row.wrapped_key = fresh.key_id, fresh.wrapped_key
                row.ciphertext = b"amended meanwhile"
        return super().unwrap(wrapped, key_id)


def _store(tmp_path: Path) -> sessionmaker[Session]:
    engine = make_engine(f"sqlite:///{tmp_path / 'abis.db'}")
    upgrade(engine)
    return make_sessions(engine)


def test_rewrap_moves_every_row_to_the_current_key_in_chunks(tmp_path: Path) -> None:
    sessions = _store(tmp_path)
    old = MasterKey(os.urandom(32))
    templates = _templates(np.random.default_rng(7))
    ids = [_insert(sessions, old, number, templates) for number in range(7)]
    ring = MasterKey(os.urandom(32), retired=(old.key,))
    with pytest.raises(ConfigurationError, match=f"master key id {old.key_id}"):
        require_key_opens_store(sessions, MasterKey(ring.key))
    seen: list[tuple[int, int]] = []
    result = rewrap_datasets(sessions, ring, chunk=3, progress=lambda d, t: seen.append((d, t)))
    assert (result.rewrapped, result.changed_meanwhile, result.left) == (7, 0, {})
    assert seen == [(3, 7), (6, 7), (7, 7)]
    current_only = MasterKey(ring.key)  # the retired key is no longer needed
    require_key_opens_store(sessions, current_only)
    with sessions() as session:
        rows = list(session.scalars(select(DatasetRow).order_by(DatasetRow.id)))
        assert [open_details(current_only, row) for row in rows] == [{"n": n} for n in range(7)]
        assert {row.id for row in rows} == set(ids)
    assert rewrap_datasets(sessions, ring).rewrapped == 0  # idempotent


def test_a_dataset_amended_during_the_rotation_keeps_what_the_service_wrote(
    tmp_path: Path,
) -> None:
    sessions = _store(tmp_path)
    old = MasterKey(os.urandom(32))
    templates = _templates(np.random.default_rng(3))
    ids = [_insert(sessions, old, number, templates) for number in range(3)]
    new = os.urandom(32)
    ring = _AmendingDuringRotation(new, retired=(old.key,), sessions=sessions, victim=ids[1])
    result = rewrap_datasets(sessions, ring)
    assert (result.rewrapped, result.changed_meanwhile, result.left) == (2, 1, {})
    with sessions() as session:
        amended = session.get(DatasetRow, ids[1])
        assert amended is not None and amended.ciphertext == b"amended meanwhile"
        assert amended.key_id == ring.key_id
        others = [session.get(DatasetRow, ids[n]) for n in (0, 2)]
        assert [open_details(MasterKey(new), row) for row in others if row is not None
                ] == [{"n": 0}, {"n": 2}]


def test_rows_under_a_key_the_ring_lacks_are_reported_left(tmp_path: Path) -> None:
    sessions = _store(tmp_path)
    lost = MasterKey(os.urandom(32))
    _insert(sessions, lost, 0, _templates(np.random.default_rng(1)))
    with sessions.begin() as session:  # a second key, then made unknown
        session.execute(update(DatasetRow).values(key_id="0123456789abcdef"))
    result = rewrap_datasets(sessions, MasterKey(os.urandom(32), retired=(lost.key,)))
    assert result.rewrapped == 0 and result.left == {"0123456789abcdef": 1}


def test_audit_keys_trust_the_retired_public_keys(tmp_path: Path) -> None:
    old, new = keys_from_seed(os.urandom(32)), keys_from_seed(os.urandom(32))
    generate_audit_key_file(tmp_path / "audit.key")
    keys = load_audit_keys(Settings(data_dir=tmp_path, audit_key_file=tmp_path / "audit.key",
                                    audit_trusted_public_keys=f"{old.public_key_hex},"
                                                              f"{new.public_key_hex}"))
    assert [public_key_hex(key) for key in keys.trusted_public_keys] == [
        keys.public_key_hex, old.public_key_hex, new.public_key_hex]
    with pytest.raises(ConfigurationError, match="not an Ed25519 public key"):
        load_audit_keys(Settings(data_dir=tmp_path, audit_key_file=tmp_path / "audit.key",
                                 audit_trusted_public_keys="abc"))



def test_a_snapshot_sealed_by_a_retired_key_opens_with_the_ring_only(tmp_path: Path) -> None:
    gallery, _ = _gallery(20)
    old = MasterKey(os.urandom(32))
    path = tmp_path / "gallery.snapshot"
    write_snapshot(path, gallery, old)
    assert snapshot_key_id(path) == old.key_id
    ring = MasterKey(os.urandom(32), retired=(old.key,))
    assert load_snapshot(path, ring, matcher.Gallery(CONFIG, index=FAST)) == 20
    with pytest.raises(SnapshotError, match="another master key"):  # the key dropped: rebuild
        load_snapshot(path, MasterKey(ring.key), matcher.Gallery(CONFIG, index=FAST))
    write_snapshot(path, gallery, ring)  # the service's next snapshot: under the current key
    assert snapshot_key_id(path) == ring.key_id
    assert snapshot_key_id(tmp_path / "none") is None
