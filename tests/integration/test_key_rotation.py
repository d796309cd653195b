"""Rotating the master key and the audit signing key of a running service: every data key
re-wrapped, the old keys dropped after a restart, old checkpoints still verifying, the rotations
audited, and a backup restored with the new keys alone giving the same answers."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from service.audit.keys import keys_from_seed, public_key_from_hex
from service.audit.verify import verify_chain
from service.crypto.keyfile import read_secret_file
from service.crypto.master_key import generate_key_file
from tests.factories import new_person_seed, transmission
from tests.service_process import RunningService, cli, free_port, service_env


def _search_answers(running: RunningService, people: list[int]) -> list[list[str]]:
    with running.client("AT", "law_enforcement") as austria:
        return [
            sorted(hit["reference_number"] for hit in austria.post(
                "/v1/transmissions", json=transmission("AT", 4, person=person, capture=3,
                                                       purpose="test", case_number="C1")
            ).json()["hits"])
            for person in people
        ]


def _scalars(database_url: str, sql: str) -> list[str]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return [str(value) for value in connection.execute(text(sql)).scalars()]
    finally:
        engine.dispose()


def _public_key(audit_key_file: Path) -> str:
    seed = read_secret_file(audit_key_file, configured=True, dev=False, what="audit key",
                            setting="test")
    return keys_from_seed(seed).public_key_hex


def _restored_copy(database_url: str, env: dict[str, str], fresh: Path, tmp_path: Path) -> str:
    """A backup of the database restored beside it (`abis db backup` or pg_dump/pg_restore)."""
    if database_url.startswith("sqlite:///"):
        done = subprocess.run([".venv/bin/abis", "db", "backup", str(fresh / "abis.db")],
                              env=env, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
        return f"sqlite:///{fresh / 'abis.db'}"
    url = make_url(database_url)
    server = ["-h", url.host or "127.0.0.1", "-U", url.username or "postgres"]
    name = f"{url.database}_restored"
    dump = tmp_path / "abis.dump"
    subprocess.run(["pg_dump", "-Fc", *server, "-f", str(dump), url.database or ""], check=True)
    subprocess.run(["createdb", *server, name], check=True)
    subprocess.run(["pg_restore", *server, "-d", name, str(dump)], check=True)
    return url.set(database=name).render_as_string(hide_password=False)


def test_both_keys_rotate_on_a_running_service_across_a_restart_and_a_restore(
    service: RunningService, database_url: str, data_dir: Path, tmp_path: Path
) -> None:
    people = [new_person_seed() for _ in range(4)]
    references = []
    with service.client("IT") as italy:
        for person in people:
            stored = italy.post("/v1/transmissions", json=transmission("IT", 2, person=person))
            assert stored.status_code == 201
            references.append(stored.json()["reference_number"])
    original = _search_answers(service, people)
    assert all(original)
    (old_key_id,) = set(_scalars(database_url, "SELECT key_id FROM datasets"))

    # 1. restart with the new master key current and the old one retired: still serving
    generate_key_file(data_dir / "master-2.key")
    service.stop()
    service.env = dict(service.env, ABIS_MASTER_KEY_FILE=str(data_dir / "master-2.key"),
                       ABIS_RETIRED_MASTER_KEY_FILES=str(data_dir / "master.key"),
                       ABIS_AUDIT_CHECKPOINT_EVERY="1")
    service.start()
    assert _search_answers(service, people) == original
    with service.client("IT") as italy:  # written under the new key meanwhile
        assert italy.post("/v1/transmissions", json=transmission(
            "IT", 1, person=new_person_seed())).status_code == 201

    # 2. while it runs: re-wrap every data key, and hand the audit key over
    rotated = cli(service.env, "keys", "rotate-master")
    assert rotated.returncode == 0, rotated.stderr
    assert "re-wrapped 4/4" in rotated.stderr and "can be removed" in rotated.stderr
    key_ids = set(_scalars(database_url, "SELECT key_id FROM datasets"))
    assert len(key_ids) == 1 and old_key_id not in key_ids
    handed = cli(service.env, "keys", "rotate-audit", "--new-key-file",
                 str(data_dir / "audit-2.key"))
    assert handed.returncode == 0, handed.stderr
    settings = dict(line.split("=", 1) for line in handed.stdout.splitlines())
    old_public = _public_key(data_dir / "audit.key")
    assert settings["ABIS_AUDIT_TRUSTED_PUBLIC_KEYS"] == old_public
    operations = _scalars(database_url, "SELECT operation FROM audit_events")
    assert {"keys:rotate-master", "keys:rotate-audit"} <= set(operations)

    # 3. restart with the new keys alone (the old master key retired): same answers
    service.stop()
    service.env.pop("ABIS_RETIRED_MASTER_KEY_FILES")
    service.env.update(settings)
    service.start()
    assert _search_answers(service, people) == original
    with service.client("IT") as italy:
        assert italy.get(f"/v1/datasets/{references[0]}").status_code == 200
    with service.client("EU", "supervisor") as edps:
        assert edps.get("/v1/audit/verify").json()["ok"] is True
    new_public = _public_key(data_dir / "audit-2.key")
    assert new_public != old_public
    assert cli(service.env, "audit", "public-key", "--trusted").stdout.split() == [
        new_public, old_public]
    signers = set(_scalars(database_url, "SELECT public_key FROM audit_checkpoints"))
    assert signers == {old_public, new_public}
    engine = create_engine(database_url)
    with Session(engine) as session:  # the retired key's checkpoints need its public key
        alone = verify_chain(session, [public_key_from_hex(new_public)])
        assert not alone.ok and alone.problem is not None and "not trusted" in alone.problem
    engine.dispose()
    both = cli(service.env, "audit", "verify", "--public-key", new_public,
               "--public-key", old_public)
    assert both.returncode == 0, both.stderr

    # 4. a backup restored with the new keys alone
    fresh = tmp_path / "restored"
    fresh.mkdir()
    for key in ("master-2.key", "audit-2.key"):
        shutil.copy2(data_dir / key, fresh / key)
    target = _restored_copy(database_url, service.env, fresh, tmp_path)
    restored = RunningService(service_env(
        fresh, target, ABIS_MASTER_KEY_FILE=str(fresh / "master-2.key"),
        ABIS_AUDIT_KEY_FILE=str(fresh / "audit-2.key"),
        ABIS_AUDIT_TRUSTED_PUBLIC_KEYS=old_public), free_port())
    restored.keys = dict(service.keys)  # the API keys are in the backup too
    restored.start()
    try:
        assert _search_answers(restored, people) == original
        with restored.client("EU", "supervisor") as edps:
            assert edps.get("/v1/audit/verify").json()["ok"] is True
    finally:
        restored.stop()
        if not database_url.startswith("sqlite:///"):
            admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(
                    f'DROP DATABASE IF EXISTS "{make_url(target).database}" WITH (FORCE)'))
            admin.dispose()

