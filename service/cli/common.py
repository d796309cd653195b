"""What every `abis` subcommand shares: clear errors, database sessions from the settings."""

from __future__ import annotations

from typing import NoReturn

import typer
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from service.settings import Settings


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
