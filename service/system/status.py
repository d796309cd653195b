"""What operators and admins see of a running service: gallery size, writer queue, snapshot,
retention sweeps, recent errors."""

from __future__ import annotations

import threading
import time
from typing import Protocol

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from schemas.oversight import PartitionSize, SweepRun, SystemStatus
from service.audit.events import Operation
from service.audit.models import AuditEventRow
from service.clock import as_utc
from service.settings import Settings
from service.shard.remote import RemoteGallery
from service.system.recent_errors import recent_errors
from service.writer.gallery import LocalGallery, WriterGallery
from service.writer.queue import WorkQueue

_SWEEPS_SHOWN = 10




def gallery_partitions(gallery: WriterGallery) -> list[PartitionSize]:
    """Datasets (and, in process, bytes) per partition: the whole gallery as one partition in
    the embedded default, else each shard partition as its replicas last reported."""
    if isinstance(gallery, LocalGallery):
        inner = gallery.inner
        return [PartitionSize(name="gallery", datasets=len(inner), bytes=inner.nbytes())]
    if isinstance(gallery, RemoteGallery):
        return [PartitionSize(name=f"partition {index}", datasets=size)
                for index, size in enumerate(gallery.sizes)]
    return [PartitionSize(name="gallery", datasets=len(gallery))]


def recent_sweeps(session: Session) -> list[SweepRun]:
    """The latest retention sweep chunks, from their audit events (one per erased chunk)."""
    rows = session.scalars(
        select(AuditEventRow).where(AuditEventRow.operation == Operation.EXPIRE.value)
        .order_by(AuditEventRow.seq.desc()).limit(_SWEEPS_SHOWN)
    )
    return [SweepRun(at=as_utc(row.at), erased=_erased(row.body)) for row in rows]


def _erased(body: str | None) -> int:
    if body is None:  # purged event: the count went with the body
        return 0
    outcome = orjson.loads(body).get("outcome") or {}
    return int(outcome.get("erased", 0))


class Observed(Protocol):
    """What the system status reads of a running service (a `Runtime` is one)."""

    @property
    def settings(self) -> Settings: ...
    @property
    def sessions(self) -> sessionmaker[Session]: ...
    @property
    def ready(self) -> threading.Event: ...
    @property
    def gallery(self) -> WriterGallery: ...
    @property
    def pipeline(self) -> WorkQueue: ...


def system_status(runtime: Observed) -> SystemStatus:
    snapshot = runtime.settings.effective_snapshot_file
    age: float | None = None
    if snapshot is not None and snapshot.exists():
        age = max(0.0, time.time() - snapshot.stat().st_mtime)
    with runtime.sessions() as session:
        sweeps = recent_sweeps(session)
    return SystemStatus(
        ready=runtime.ready.is_set(),
        partitions=gallery_partitions(runtime.gallery),
        queue_depth=runtime.pipeline.depth,
        batches_written=runtime.pipeline.batches,
        snapshot_file=snapshot is not None,
        snapshot_age_seconds=age,
        sweep_interval_seconds=runtime.settings.sweep_interval_seconds,
        sweeps=sweeps,
        recent_errors=recent_errors(),
    )
