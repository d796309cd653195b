"""What every `abis` subcommand shares: clear errors, database sessions from the settings."""

from __future__ import annotations

from typing import NoReturn

import typer
from sqlalchemy.orm import Session, sessionmaker

from service.settings import Settings


def fail(message: str) -> NoReturn:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(2)


def open_sessions(settings: Settings) -> sessionmaker[Session]:
    from service.store.database import create_schema, make_engine, make_sessions

    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    engine = make_engine(settings.effective_database_url)
    create_schema(engine)
    return make_sessions(engine)
