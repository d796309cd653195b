"""A service that must not run stops at once, with an error that names the cause."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from service.audit.keys import generate_audit_key_file
from service.crypto.master_key import generate_key_file
from tests.factories import new_person_seed, transmission
from tests.service_process import RunningService, cli, free_port, service_env


def _serve(env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = dict(env, ABIS_PORT=str(free_port()), ABIS_HOST="127.0.0.1")
    return subprocess.run([sys.executable, "-m", "service", "serve"], env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)


def _keys(data_dir: Path) -> None:
    generate_key_file(data_dir / "master.key")
    generate_audit_key_file(data_dir / "audit.key")


def test_a_synthetic_deployment_is_refused_in_production_mode(
    database_url: str, tmp_path: Path
) -> None:
    _keys(tmp_path)
    env = service_env(tmp_path, database_url, ABIS_SYNTHETIC_DEPLOYMENT="true")
    assert cli(env, "db", "upgrade").returncode == 0
    done = _serve(env)
    assert done.returncode != 0
    assert "ABIS_SYNTHETIC_DEPLOYMENT" in done.stderr and "production mode" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.fixture(scope="module")
def sealed_dir(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One data directory (and master key) per backend: this module's datasets are sealed
    with its key."""
    directory = tmp_path_factory.mktemp("sealed")
    _keys(directory)
    return directory


def test_a_wrong_master_key_stops_the_service_at_once_naming_the_cause(
    database_url: str, sealed_dir: Path, tmp_path: Path
) -> None:
    env = service_env(sealed_dir, database_url)
    running = RunningService(env, free_port())
    running.start()
    try:
        with running.client("DE") as germany:
            body = transmission("DE", 1, person=new_person_seed())
            assert germany.post("/v1/transmissions", json=body).status_code == 201
    finally:
        running.stop()
    other = tmp_path / "other"
    other.mkdir()
    generate_key_file(other / "master.key")
    started = time.monotonic()
    done = _serve(dict(env, ABIS_MASTER_KEY_FILE=str(other / "master.key")))
    assert done.returncode != 0
    assert time.monotonic() - started < 30  # at once, not unready for ever
    assert "another master key" in done.stderr and "ABIS_MASTER_KEY_FILE" in done.stderr
    assert "ABIS_RETIRED_MASTER_KEY_FILES" in done.stderr  # a key dropped too early, named
    assert "Traceback" not in done.stderr


def test_a_gallery_that_fails_to_load_stops_the_service_with_the_cause(
    database_url: str, sealed_dir: Path
) -> None:
    """The first dataset opens (the startup check passes) but a later one is damaged: the
    background load fails, and the process stops instead of staying unready."""
    env = service_env(sealed_dir, database_url, ABIS_SNAPSHOT="false")
    running = RunningService(env, free_port())
    running.start()
    try:
        with running.client("DE") as germany:
            for _ in range(2):
                body = transmission("DE", 1, person=new_person_seed())
                assert germany.post("/v1/transmissions", json=body).status_code == 201
    finally:
        running.stop()
    engine = create_engine(database_url)
    with engine.begin() as connection:  # damage the newest dataset's wrapped data key
        newest = connection.execute(text("SELECT max(id) FROM datasets")).scalar_one()
        connection.execute(text("UPDATE datasets SET wrapped_key = :junk WHERE id = :id"),
                           {"junk": b"\x00" * 40, "id": newest})
    engine.dispose()
    done = _serve(env)
    assert done.returncode != 0
    assert "the gallery could not be loaded" in done.stderr
    assert "another master key" in done.stderr  # InvalidUnwrap: the likely cause, named
