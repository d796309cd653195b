"""One writer per database. The single writer is what keeps matching and linking consistent, so
a second service on the same database must not write: it fails at startup, or (`wait`) stands by
until the lease is free and then takes over.

PostgreSQL: a session-level advisory lock held on a dedicated connection. SQLite: an exclusive
`flock` on a file beside the database. Both are released by the operating system or the server
when the process dies, even by kill -9, so a crash never leaves a stale lock behind.

Each acquisition increments the epoch in `writer_epoch`; the writer checks it in every batch
transaction and sends it with every shard request, so a writer that lost its lease (its
connection dropped, a standby took over) can neither commit nor be answered by a shard.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select, text, update

from service.errors import ConfigurationError
from service.writer.models import WriterEpochRow

_ADVISORY_KEY = 0x61626973  # "abis"


_WAIT_POLL_SECONDS = 0.5


@dataclass
class WriterLease:
    _holder: Any  # the open file or connection whose life is the lease's
    epoch: int = 0

    def release(self) -> None:
        self._holder.close()


def take_epoch(engine: Engine) -> int:
    """The next epoch, now the lease holder's own."""
    with engine.begin() as connection:
        connection.execute(update(WriterEpochRow).where(WriterEpochRow.id == 1)
                           .values(epoch=WriterEpochRow.epoch + 1,
                                   taken_at=dt.datetime.now(dt.UTC)))
        epoch = connection.scalar(select(WriterEpochRow.epoch).where(WriterEpochRow.id == 1))
    assert epoch is not None
    return int(epoch)


def acquire_writer_lease(engine: Engine, *, wait: bool = False) -> WriterLease:
    """The lease with a new epoch; with `wait`, stand by until the holder's lease ends."""
    while True:
        try:
            lease = _try_lock(engine)
        except ConfigurationError:
            if not wait:
                raise
            time.sleep(_WAIT_POLL_SECONDS)
            continue
        lease.epoch = take_epoch(engine)
        return lease


def _try_lock(engine: Engine) -> WriterLease:
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
