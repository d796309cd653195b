"""What every `abis` subcommand shares: clear errors, database sessions from the settings."""

from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn

import typer
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from service.settings import Settings

if TYPE_CHECKING:
    from service.audit.trail import AuditTrail
    from service.crypto import MasterKey


def fail(message: str) -> NoReturn:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(2)


def open_engine(settings: Settings) -> Engine:
    from service.store.database import make_engine

    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    return make_engine(settings.effective_database_url)


def open_sessions(settings: Settings) -> sessionmaker[Session]:
    """Sessions on a database whose schema this version runs on (else a clear error)."""
    from service.errors import ConfigurationError
    from service.store.database import make_sessions
    from service.store.schema import require_current

    engine = open_engine(settings)
    try:
        require_current(engine)
    except ConfigurationError as error:
        fail(error.detail)
    return make_sessions(engine)


def audit_trail(settings: Settings) -> AuditTrail:
    """The audit trail of a CLI command: every event it writes is checkpointed at once."""
    from service.audit.keys import load_audit_keys
    from service.audit.trail import AuditTrail

    return AuditTrail(load_audit_keys(settings), checkpoint_every=1,
                      checkpoint_seconds=settings.audit_checkpoint_seconds)


def keys_or_fail(settings: Settings) -> tuple[MasterKey, AuditTrail]:
    """The master key ring and the audit trail, or a clear CLI error naming what is wrong."""
    from service.crypto import load_master_key
    from service.errors import ServiceError

    try:
        return load_master_key(settings), audit_trail(settings)
    except ServiceError as error:
        fail(error.detail)
