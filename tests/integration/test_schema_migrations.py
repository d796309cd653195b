"""The schema is migrated by `abis db upgrade`; the service refuses any schema but its own."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, text

from service.store.schema import head_revision, upgrade
from tests.service_process import cli, service_env


def _env(data_dir: Path, database_url: str) -> dict[str, str]:
    from service.audit.keys import generate_audit_key_file
    from service.crypto.master_key import generate_key_file

    if not (data_dir / "master.key").exists():
        generate_key_file(data_dir / "master.key")
        generate_audit_key_file(data_dir / "audit.key")
    return service_env(data_dir, database_url, ABIS_PORT="1")  # never gets to listen


def _set_revision(database_url: str, revision: str) -> None:
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
    engine.dispose()


def test_schema_lifecycle(data_dir: Path, database_url: str) -> None:
    env = _env(data_dir, database_url)

    empty = cli(env, "serve")
    assert empty.returncode != 0 and "abis db upgrade" in empty.stderr
    keys = cli(env, "keys", "create", "--member-state", "DE", "--role", "officer")
    assert keys.returncode == 2 and "abis db upgrade" in keys.stderr and not keys.stdout

    engine = create_engine(database_url)
    upgrade(engine, "0001")  # the database of an older version
    older = cli(env, "serve")
    assert older.returncode != 0 and f"needs {head_revision()}" in older.stderr

    migrated = cli(env, "db", "upgrade")
    assert migrated.returncode == 0, migrated.stderr
    assert f"schema at {head_revision()} (was 0001)" in migrated.stdout
    with engine.connect() as connection:
        assert {"notifications", "statistics"} <= set(
            connection.dialect.get_table_names(connection))
    engine.dispose()
    again = cli(env, "db", "upgrade")  # idempotent
    assert again.returncode == 0 and f"was {head_revision()}" in again.stdout
    assert head_revision() in cli(env, "db", "current").stdout

    _set_revision(database_url, "ffffffffffff")
    unknown = cli(env, "serve")
    assert unknown.returncode != 0 and "unknown to this version" in unknown.stderr
    _set_revision(database_url, head_revision())
