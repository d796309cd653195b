"""Fixtures: database backends (SQLite always, PostgreSQL when ABIS_TEST_DATABASE_URL is set)
and a real abis server per backend."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.service_process import RunningService, free_port, service_env

POSTGRES_URL = os.environ.get("ABIS_TEST_DATABASE_URL")
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if POSTGRES_URL:
        return
    skip = pytest.mark.skip(reason="ABIS_TEST_DATABASE_URL is not set")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="module", params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                 ) -> Iterator[str]:
    """A fresh, empty database for each test module and backend."""
    yield from fresh_database(request.param, tmp_path_factory)


def fresh_database(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A new SQLite file, or a new PostgreSQL database dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'abis.db'}"
        return
    assert POSTGRES_URL
    name = f"abis_test_{secrets.token_hex(4)}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def data_dir(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The service's data directory, one per test module and backend."""
    return tmp_path_factory.mktemp("data")


def started_service(database_url: str, data_dir: Path, **settings: str
                    ) -> Iterator[RunningService]:
    """A real server (uvicorn, subprocess) on a free port, with fresh key files."""
    from service.audit.keys import generate_audit_key_file
    from service.crypto.master_key import generate_key_file

    generate_key_file(data_dir / "master.key")
    generate_audit_key_file(data_dir / "audit.key")
    running = RunningService(service_env(data_dir, database_url, **settings), free_port())
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def service(database_url: str, data_dir: Path) -> Iterator[RunningService]:
    """A real server in production mode (key files, no dev settings) over a fresh database."""
    yield from started_service(database_url, data_dir)


@pytest.fixture(scope="module")
def synthetic_service(database_url: str, data_dir: Path) -> Iterator[RunningService]:
    """A development-mode server of a synthetic deployment (the evaluation search is on)."""
    yield from started_service(database_url, data_dir, ABIS_DEV="true",
                               ABIS_SYNTHETIC_DEPLOYMENT="true")
