"""`abis db`: schema migrations."""

from __future__ import annotations

from pathlib import Path

import typer

from service.cli.common import fail, open_engine
from service.settings import Settings
from service.store.schema import current_revision, head_revision, upgrade

app = typer.Typer(help="The database schema (migrations).", no_args_is_help=True)


@app.command("upgrade")
def upgrade_command() -> None:
    """Bring an empty or older database to this version's schema."""
    engine = open_engine(Settings())
    before = current_revision(engine)
    upgrade(engine)
    typer.echo(f"schema at {current_revision(engine)} (was {before or 'empty'})")


@app.command()
def current() -> None:
    """Print the database's schema revision and this version's."""
    engine = open_engine(Settings())
    typer.echo(f"database {current_revision(engine) or 'empty'}, this version {head_revision()}")


@app.command()
def backup(destination: Path) -> None:
    """Copy the embedded SQLite database consistently, even while the service runs."""
    from service.errors import ServiceError
    from service.store.backup import backup_sqlite

    settings = Settings()
    try:
        backup_sqlite(settings.effective_database_url, destination)
    except ServiceError as error:
        fail(error.detail)
    typer.echo(f"backed up to {destination} (keep the master and audit keys apart from it)")
