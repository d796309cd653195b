"""One service per database. The in-memory index and the single writer are what keep matching
and linking consistent, so a second service on the same database must not start.

PostgreSQL: a session-level advisory lock held on a dedicated connection. SQLite: an exclusive
`flock` on a file beside the database. Both are released by the operating system or the server
when the process dies, even by kill -9, so a crash never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from service.errors import ConfigurationError

_ADVISORY_KEY = 0x61626973  # "abis"


@dataclass
class WriterLease:
    _holder: Any  # the open file or connection whose life is the lease's

    def release(self) -> None:
        self._holder.close()


def acquire_writer_lease(engine: Engine) -> WriterLease:
    if engine.dialect.name == "sqlite":
        database = engine.url.database
        if not database or database == ":memory:":
            return WriterLease(open(os.devnull))  # nothing shared to protect
        handle = Path(database + ".lock").open("a")  # noqa: SIM115 - the open file is the lease
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise ConfigurationError(
                f"another abis service is running on {database}: one service per database"
            ) from None
        return WriterLease(handle)
    connection = engine.connect()
    if not connection.execute(text("SELECT pg_try_advisory_lock(:k)"),
                              {"k": _ADVISORY_KEY}).scalar():
        connection.close()
        raise ConfigurationError(
            "another abis service is running on this database: one service per database"
        )
    connection.commit()
    return WriterLease(connection)
