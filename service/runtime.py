"""Everything a running service holds: store, keys, gallery, the transmission pipeline.

Built once at startup; the gallery is filled from the store in the background and the service
reports ready only when that is done. With ABIS_SHARDS set the gallery lives in shard servers
(`abis shard`), which load and replay it by themselves. An `abis api` worker (`build_api`)
holds neither gallery nor queue: both are the remote writer (`abis writer`).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from service.audit.keys import load_audit_keys
from service.audit.security import AuthFailureWatch
from service.audit.trail import AuditTrail
from service.clock import Clock
from service.crypto import MasterKey, load_master_key
from service.datasets.sealed import require_key_opens_store
from service.errors import ConfigurationError, ServiceError
from service.gallery.snapshotter import Snapshotter
from service.gallery.startup import GalleryLoadFailed, start_gallery, store_gallery
from service.gallery.store_sample import StoreSample
from service.matcher_settings import make_gallery, matcher_config
from service.metrics.registry import BATCH_SIZE
from service.scores.units import require_threshold_units
from service.settings import Settings
from service.store.database import make_engine, make_sessions
from service.store.lease import WriterLease, acquire_writer_lease
from service.store.schema import require_current, upgrade
from service.writer.batch import BatchProcessor
from service.writer.cohort import CohortKeeper
from service.writer.commands import WorkItem, WorkResult
from service.writer.gallery import LocalGallery, WriterGallery
from service.writer.pipeline import BatchPipeline
from service.writer.queue import WorkQueue

if TYPE_CHECKING:
    from service.lifecycle.retention import Sweeper
    from service.lifecycle.thresholds import ThresholdFollower
    from service.writer.log_pruning import LogPruner

_log = structlog.get_logger(__name__)

# Re-exported: older importers (shard, benchmarks, tests) find them here.
__all__ = ["Runtime", "WorkQueue", "make_gallery", "matcher_config"]


def _cohort(settings: Settings, sessions: sessionmaker[Session], master: MasterKey
            ) -> CohortKeeper | None:
    """ABIS_SCORE_NORMALISATION=cohort: the cohort, drawn from the store once it is loaded."""
    if settings.score_normalisation != "cohort":
        return None
    store = StoreSample(sessions, master)
    return CohortKeeper(matcher_config(settings), settings.cohort_size, settings.cohort_seed,
                        store.ids, store.templates)


def _writer_gallery(settings: Settings, sessions: sessionmaker[Session], master: MasterKey,
                    epoch: int) -> WriterGallery:
    cohort = _cohort(settings, sessions, master)
    if not settings.shards:
        return LocalGallery(store_gallery(settings, sessions, master), cohort)
    from service.shard.remote import RemoteGallery

    return RemoteGallery.connect(settings, epoch, cohort)


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    master: MasterKey
    gallery: WriterGallery  # what the writer searches: in process, or the shard servers
    pipeline: WorkQueue
    audit: AuditTrail | None  # None only in benchmarks that measure the audit's cost
    clock: Clock
    ready: threading.Event = field(default_factory=threading.Event)
    failure: str | None = None  # why the gallery could not be loaded; the process stops
    on_failure: Callable[[], None] | None = None  # `abis serve`: stop the server
    lease: WriterLease | None = None
    sweeper: Sweeper | None = None
    log_pruner: LogPruner | None = None
    snapshotter: Snapshotter | None = None
    thresholds: ThresholdFollower | None = None
    writes: bool = True  # False in an API worker: the remote writer writes, loads, sweeps

    @property
    def skew(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.settings.clock_skew_seconds)

    @classmethod
    def build(cls, settings: Settings, *, audit: bool = True, clock: Clock | None = None
              ) -> Runtime:
        if settings.synthetic_deployment and not settings.dev:
            raise ConfigurationError(
                "ABIS_SYNTHETIC_DEPLOYMENT=true is refused in production mode: the evaluation "
                "search reveals scores below the threshold; set it only with ABIS_DEV=true on "
                "a deployment holding synthetic data")
        require_threshold_units(settings)
        settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        master = load_master_key(settings)
        keys = load_audit_keys(settings)
        if master.is_dev:
            _log.warning(
                "DEV_MASTER_KEY",
                message="using a generated DEVELOPMENT master key: not for real data",
                path=str(settings.effective_master_key_file),
            )
        engine = make_engine(settings.effective_database_url)
        if settings.dev:
            upgrade(engine)  # dev mode migrates by itself; production runs `abis db upgrade`
        require_current(engine)
        lease = acquire_writer_lease(engine, wait=settings.writer_wait)
        sessions = make_sessions(engine)
        require_key_opens_store(sessions, master)
        gallery = _writer_gallery(settings, sessions, master, lease.epoch)
        clock = clock or Clock()
        trail = None
        if audit:
            trail = AuditTrail(
                keys,
                checkpoint_every=settings.audit_checkpoint_every,
                checkpoint_seconds=settings.audit_checkpoint_seconds,
            )
            trail.load_head(sessions)
        pipeline: BatchPipeline[WorkItem, WorkResult] = BatchPipeline(
            BatchProcessor(sessions, gallery, master, trail, clock,
                           AuthFailureWatch(settings.auth_failure_threshold,
                                            settings.auth_failure_window_seconds),
                           epoch=lease.epoch),
            max_batch=settings.batch_max,
            name="abis-writer",
            on_batch=BATCH_SIZE.observe,
        )
        return cls(settings, engine, sessions, master, gallery, pipeline, trail, clock,
                   lease=lease)

    @classmethod
    def build_api(cls, settings: Settings) -> Runtime:
        """An API worker's runtime: the store for reads, the keys for sealing and the audit's
        HMACs; every write goes to the writer at ABIS_WRITER. Ready while the writer is."""
        from service.writer.client import RemoteWriter

        require_threshold_units(settings)
        master = load_master_key(settings)
        keys = load_audit_keys(settings)
        engine = make_engine(settings.effective_database_url)
        require_current(engine)
        writer = RemoteWriter(settings, matcher_config(settings))
        trail = AuditTrail(keys, checkpoint_every=settings.audit_checkpoint_every,
                           checkpoint_seconds=settings.audit_checkpoint_seconds)
        return cls(settings, engine, make_sessions(engine), master, writer, writer, trail,
                   Clock(), ready=writer.ready, writes=False)

    def start(self) -> None:
        """Start the writer (audit events flow from the first request), fill the gallery in the
        background; transmissions are taken once it is full."""
        self.pipeline.start()
        if not self.writes:
            return
        threading.Thread(target=self._load, name="abis-gallery-load", daemon=True).start()

    def _start_sweeper(self) -> None:
        from service.lifecycle.retention import Sweeper

        self.sweeper = Sweeper(self.pipeline.submit, lambda: self.clock.now().date(),
                               self.settings.sweep_interval_seconds)
        self.sweeper.start()
        self._start_log_pruner()

    def _start_log_pruner(self) -> None:
        import datetime as dt

        from service.writer.log_pruning import LogPruner

        settings = self.settings
        self.log_pruner = LogPruner(
            self.sessions, settings.index_log_keep,
            dt.timedelta(seconds=settings.index_log_report_max_age_seconds),
            settings.index_log_prune_seconds, self.clock.now)
        self.log_pruner.start()

    def _load(self) -> None:
        # Shards (not LocalGallery) load their partitions themselves; a search is refused
        # (503) while a partition has no replica caught up.
        try:
            if isinstance(self.gallery, LocalGallery):
                self.snapshotter = start_gallery(self.settings, self.sessions, self.master,
                                                 self.gallery.inner).snapshotter
            cohort = self._cohort_keeper()
            if cohort is not None:
                cohort.draw()  # before ready: the first search is normalised
        except (GalleryLoadFailed, SQLAlchemyError, ServiceError) as error:
            # Unready for ever helps nobody: stop the process with the cause (`abis serve`
            # exits non-zero with it), so an orchestrator or operator sees it at once.
            self.failure = str(error)
            if self.on_failure is not None:
                self.on_failure()
            return
        self._start_thresholds()  # before ready: the first calibration precedes any search
        self.ready.set()
        self._start_sweeper()

    def _cohort_keeper(self) -> CohortKeeper | None:
        cohort = getattr(self.gallery, "cohort", None)
        return cohort if isinstance(cohort, CohortKeeper) else None

    def _start_thresholds(self) -> None:
        if self.settings.target_fpir is None:
            return
        from service.lifecycle.thresholds import ThresholdFollower
        from service.scores.calibration import GallerySample, Sample
        from service.shard.remote import RemoteGallery

        gallery = self.gallery
        sample: Sample
        if isinstance(gallery, LocalGallery):
            target: LocalGallery | RemoteGallery = gallery
            sample = GallerySample(gallery.inner)
        elif isinstance(gallery, RemoteGallery):
            # The shards hold the templates, not this process: the sample is read from the
            # store (the source of truth), the thresholds go with every request.
            target, sample = gallery, StoreSample(self.sessions, self.master)
        else:
            return
        keeper = self._cohort_keeper()
        self.thresholds = ThresholdFollower(
            self.pipeline.submit, target, self.settings.target_fpir,
            self.settings.calibrate_growth, self.settings.calibrate_interval_seconds,
            sample=sample, cohort=lambda: None if keeper is None else keeper.cohort)
        try:
            self.thresholds.follow_once()
        except Exception:  # the thresholds in force stay; the follower retries later
            _log.exception("threshold_calibration_failed")
        self.thresholds.start()

    def stop(self) -> None:
        if self.sweeper is not None:
            self.sweeper.stop()
        if self.log_pruner is not None:
            self.log_pruner.stop()
        if self.thresholds is not None:
            self.thresholds.stop()
        self.pipeline.stop()
        if self.snapshotter is not None:
            self.snapshotter.stop()
        self.gallery.close()
        if self.audit is not None and self.writes:
            self.audit.checkpoint_now(self.sessions, self.clock.now())
        self.engine.dispose()
        if self.lease is not None:
            self.lease.release()
