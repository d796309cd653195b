"""Consistent backups of the embedded SQLite database while the service runs.

SQLite's online backup API copies a consistent snapshot page by page without stopping writers.
PostgreSQL is backed up with its own tools (`pg_dump -Fc`, `pg_restore`): see the README.
A backup is useless without the master key and unverifiable without the audit key's public
half: keep the keys apart from the backups, and back them up separately.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from service.errors import ConfigurationError


def backup_sqlite(database_url: str, destination: Path,
                  progress: Callable[[int, int], None] | None = None) -> None:
    if not database_url.startswith("sqlite:///"):
        raise ConfigurationError(
            "abis db backup copies the embedded SQLite database; back up PostgreSQL with "
            "pg_dump -Fc (see the README)"
        )
    if destination.exists():
        raise ConfigurationError(f"{destination} exists: choose a new file")
    source = sqlite3.connect(database_url.removeprefix("sqlite:///"))
    target = sqlite3.connect(destination)
    try:
        def step(_status: int, remaining: int, total: int) -> None:
            if progress:
                progress(total - remaining, total)

        source.backup(target, pages=1024, progress=step)
    finally:
        target.close()
        source.close()
    destination.chmod(0o600)
