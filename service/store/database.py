"""Engine and sessions: a SQLite file by default, PostgreSQL in production; same code."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers run beside the single writer; FULL makes every commit durable on power
    # loss (batched commits keep that affordable); secure_delete overwrites erased rows.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(
        url,
        pool_size=10,
        max_overflow=10,
        pool_timeout=10,
        pool_pre_ping=True,
        connect_args={"connect_timeout": 10, "options": "-c statement_timeout=30000"},
    )


def shred(engine: Engine) -> None:
    """Push erased rows out of every file after a commit that erased data.

    With WAL, the old page images (holding the erased ciphertext and wrapped data key) stay in
    the -wal file until a checkpoint; TRUNCATE copies the zeroed pages (secure_delete) into the
    database and empties the WAL. PostgreSQL keeps dead tuples until VACUUM reuses their space,
    which no SQL can force to happen at once: there the wrapped key is unreadable through the
    database at once, and physically gone once the space is reused.
    """
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def make_sessions(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
