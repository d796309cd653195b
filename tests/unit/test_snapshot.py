"""Encrypted gallery snapshots and the startup reconcile with the store (the source of truth)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import delete, update
from sqlalchemy.orm import Session, sessionmaker

import matcher
from service.crypto import MasterKey, seal
from service.gallery.snapshot import SnapshotError, load_snapshot, write_snapshot
from service.gallery.startup import load_or_rebuild
from service.store.database import make_engine, make_sessions
from service.store.models import DatasetRow
from service.store.payload import DatasetPayload, encode_payload
from service.store.schema import upgrade
from service.transmission.eligibility import member_state_index
from service.transmission.prepare import dataset_identity

CONFIG = matcher.MatcherConfig(finger_dim=64, face_dim=64)
ALL = matcher.Eligibility(groups=frozenset(range(256)))
FAST = matcher.IndexKind.FAST


def _key() -> MasterKey:
    return MasterKey(os.urandom(32))


def _templates(rng: np.random.Generator) -> matcher.Templates:
    return matcher.Templates(
        fingers={p: rng.standard_normal(64).astype(np.float32) for p in range(1, 11)},
        face=rng.standard_normal(64).astype(np.float32),
    )


def _gallery(count: int, kind: matcher.IndexKind = FAST) -> tuple[matcher.Gallery, list[
        matcher.Templates]]:
    rng = np.random.default_rng(5)
    gallery = matcher.Gallery(CONFIG, index=kind)
    captured = [_templates(rng) for _ in range(count)]
    gallery.add_many((i + 1, t, matcher.EntryMeta(group=0, member_state=i % 3))
                     for i, t in enumerate(captured))
    return gallery, captured


def _hits(gallery: matcher.Gallery, probes: list[matcher.Templates]) -> list[list[int]]:
    return [[h.entry_id for h in o.hits] for o in gallery.search_many(probes, [ALL] * len(probes))]


@pytest.mark.parametrize("kind", list(matcher.IndexKind))
def test_round_trip_gives_the_same_answers(tmp_path: Path, kind: matcher.IndexKind) -> None:
    master = _key()
    gallery, captured = _gallery(200, kind)
    path = tmp_path / "gallery.snapshot"
    assert write_snapshot(path, gallery, master) == 200
    assert path.stat().st_mode & 0o777 == 0o600
    restored = matcher.Gallery(CONFIG, index=kind)
    assert load_snapshot(path, master, restored) == 200
    assert _hits(restored, captured[:50]) == _hits(gallery, captured[:50])
    assert all(hits == [i + 1] for i, hits in enumerate(_hits(restored, captured[:50])))


def test_snapshot_holds_no_clear_template_bytes(tmp_path: Path) -> None:
    gallery, captured = _gallery(100)
    state = gallery.export_state()
    path = tmp_path / "gallery.snapshot"
    write_snapshot(path, gallery, _key())
    content = path.read_bytes()
    needles = [state["fast_finger_nibbles"][7].tobytes(), state["fast_face_nibbles"][7].tobytes(),
               captured[7].fingers[3].tobytes(), state["entry_ids"].tobytes()[:64]]
    for needle in needles:
        assert needle not in content


def test_wrong_key_or_altered_file_is_refused(tmp_path: Path) -> None:
    gallery, _ = _gallery(50)
    path = tmp_path / "gallery.snapshot"
    master = _key()
    write_snapshot(path, gallery, master)
    with pytest.raises(SnapshotError, match="another master key"):
        load_snapshot(path, _key(), matcher.Gallery(CONFIG, index=FAST))
    content = bytearray(path.read_bytes())
    content[-100] ^= 1
    path.write_bytes(bytes(content))
    with pytest.raises(SnapshotError, match="altered"):
        load_snapshot(path, master, matcher.Gallery(CONFIG, index=FAST))
    path.write_bytes(bytes(content[:-200]))
    with pytest.raises(SnapshotError):
        load_snapshot(path, master, matcher.Gallery(CONFIG, index=FAST))


def test_snapshot_of_another_configuration_is_refused(tmp_path: Path) -> None:
    gallery, _ = _gallery(20)
    master = _key()
    path = tmp_path / "gallery.snapshot"
    write_snapshot(path, gallery, master)
    with pytest.raises(SnapshotError, match="configuration"):
        load_snapshot(path, master, matcher.Gallery(CONFIG, index=matcher.IndexKind.EXACT))


def test_a_later_snapshot_drops_removed_entries(tmp_path: Path) -> None:
    gallery, captured = _gallery(30)
    master = _key()
    path = tmp_path / "gallery.snapshot"
    write_snapshot(path, gallery, master)
    gallery.remove(8)
    write_snapshot(path, gallery, master)
    restored = matcher.Gallery(CONFIG, index=FAST)
    load_snapshot(path, master, restored)
    assert 8 not in restored and len(restored) == 29
    assert _hits(restored, [captured[7]]) == [[]]


# -- startup: snapshot + reconcile with the store --------------------------------------------


def _store(tmp_path: Path) -> sessionmaker[Session]:
    engine = make_engine(f"sqlite:///{tmp_path / 'abis.db'}")
    upgrade(engine)
    return make_sessions(engine)


def _insert(sessions: sessionmaker[Session], master: MasterKey, number: int,
            templates: matcher.Templates) -> int:
    reference = f"DE1{number:08d}"
    payload = DatasetPayload(
        {"n": number},
        {p: v.astype("<f4").tobytes() for p, v in templates.fingers.items()},
        None if templates.face is None else templates.face.astype("<f4").tobytes(),
    )
    sealed = seal(master, dataset_identity(reference, "DE", 1), encode_payload(payload))
    now = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    with sessions.begin() as session:
        row = DatasetRow(
            reference_number=reference, member_state="DE", category=1, gallery_group=1,
            transmitted_at=now, retention_until=now.date(), marked=False, sequence_id=number,
            key_id=sealed.key_id, wrapped_key=sealed.wrapped_key, nonce=sealed.nonce,
            ciphertext=sealed.ciphertext,
        )
        session.add(row)
        session.flush()
        return row.id


def test_startup_loads_the_snapshot_and_replays_the_store_beyond_it(tmp_path: Path) -> None:
    master = _key()
    sessions = _store(tmp_path)
    rng = np.random.default_rng(9)
    captured = [_templates(rng) for _ in range(40)]
    ids = [_insert(sessions, master, i, t) for i, t in enumerate(captured[:30])]
    path = tmp_path / "gallery.snapshot"
    first = matcher.Gallery(CONFIG, index=FAST)
    assert load_or_rebuild(sessions, master, first, path).added == 30  # no snapshot yet
    write_snapshot(path, first, master)
    # While the service is down: ten more datasets, two erased, one marked.
    ids += [_insert(sessions, master, i + 30, t) for i, t in enumerate(captured[30:])]
    with sessions.begin() as session:
        session.execute(delete(DatasetRow).where(DatasetRow.id.in_(ids[:2])))
        session.execute(update(DatasetRow).where(DatasetRow.id == ids[5]).values(marked=True))
    gallery = matcher.Gallery(CONFIG, index=FAST)
    report = load_or_rebuild(sessions, master, gallery, path)
    assert (report.from_snapshot, report.removed, report.added, report.marks_fixed) == (
        30, 2, 10, 1)
    held, marked = gallery.entries()
    assert sorted(held.tolist()) == sorted(ids[2:])
    assert marked[held.tolist().index(ids[5])]
    hits = _hits(gallery, captured)
    assert hits[:2] == [[], []]
    assert [h for h in hits[2:]] == [[i] for i in ids[2:]]
    assert member_state_index("DE") >= 0


def test_unusable_snapshot_falls_back_to_a_full_rebuild(tmp_path: Path) -> None:
    master = _key()
    sessions = _store(tmp_path)
    rng = np.random.default_rng(3)
    for i in range(5):
        _insert(sessions, master, i, _templates(rng))
    path = tmp_path / "gallery.snapshot"
    path.write_bytes(b"not a snapshot")
    gallery = matcher.Gallery(CONFIG, index=FAST)
    report = load_or_rebuild(sessions, master, gallery, path)
    assert (report.from_snapshot, report.added) == (0, 5) and len(gallery) == 5


# -- when snapshots are written ----------------------------------------------------------------


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_snapshot_policy_after_changes_time_and_erasures(tmp_path: Path) -> None:
    from service.gallery.snapshotter import Snapshotter

    gallery, _ = _gallery(10)
    clock = _Clock()
    path = tmp_path / "gallery.snapshot"
    master = _key()
    saver = Snapshotter(path, gallery, master, every=3, seconds=60, clock=clock)
    assert not saver.due()
    gallery.set_marked(1, True)
    assert not saver.due()  # one change: wait for more, or for time
    clock.now += 61
    assert saver.due()
    saver.save()
    assert not saver.due()
    for entry_id in (1, 2, 3):
        gallery.set_marked(entry_id, False)
    assert saver.due()  # `every` changes
    saver.save()
    gallery.remove(4)
    assert not saver.due()  # an erasure: wait until the run of erasures is over...
    clock.now += 6
    assert saver.due()  # ...then write, so the erased entry leaves the disk
    saver.stop()  # a final snapshot, since something changed
    restored = matcher.Gallery(CONFIG, index=FAST)
    assert load_snapshot(path, master, restored) == 9
    assert 4 not in restored and 5 in restored


def test_what_startup_reconciled_is_saved_at_a_clean_shutdown(tmp_path: Path) -> None:
    """After a crash the store holds datasets the snapshot lacks; startup adds them. A clean
    shutdown with nothing new must still save them, or every later start adds them again."""
    from service.gallery.snapshotter import Snapshotter

    gallery, _ = _gallery(10)
    path = tmp_path / "gallery.snapshot"
    master = _key()
    Snapshotter(path, gallery, master, every=0, seconds=0).save()  # the snapshot before a crash
    written = path.stat().st_mtime_ns
    saver = Snapshotter(path, gallery, master, every=0, seconds=0, unsaved=25)
    saver.start()
    saver.stop()  # nothing changed since startup...
    assert path.stat().st_mtime_ns != written  # ...but what startup reconciled is saved
    again = Snapshotter(path, gallery, master, every=0, seconds=0)
    again.start()
    saved = path.stat().st_mtime_ns
    again.stop()
    assert path.stat().st_mtime_ns == saved  # and nothing more next time
