"""The database schema is managed by migrations (alembic): `abis db upgrade` brings an empty or
older database to this version's head, and the service refuses to run on any other revision."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from service.errors import ConfigurationError

_MIGRATIONS = Path(__file__).with_name("migrations")


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate to `revision` (idempotent)."""
    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def require_current(engine: Engine) -> None:
    """Refuse a database this version cannot run on: never migrated, older, or unknown."""
    current, head = current_revision(engine), head_revision()
    if current == head:
        return
    known = {script.revision for script in ScriptDirectory.from_config(_config()).walk_revisions()}
    if current is None:
        raise ConfigurationError("the database has no abis schema: run `abis db upgrade`")
    if current in known:
        raise ConfigurationError(
            f"the database schema is at {current}, this version needs {head}: "
            "run `abis db upgrade`"
        )
    raise ConfigurationError(
        f"the database schema revision {current} is unknown to this version (made by a newer "
        "abis?): refusing to start"
    )
