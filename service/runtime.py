"""Everything a running service holds: store, keys, gallery, the transmission pipeline.

Built once at startup; the gallery is filled from the store in the background and the service
reports ready only when that is done.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field

import structlog
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

import matcher
from service.clock import Clock
from service.crypto import MasterKey, load_master_key
from service.settings import Settings
from service.store.database import create_schema, make_engine, make_sessions
from service.transmission.gallery_loader import load_gallery
from service.transmission.outcome import TransmissionOutcome
from service.transmission.pipeline import BatchPipeline
from service.transmission.prepare import PreparedTransmission
from service.transmission.process import BatchProcessor

_log = structlog.get_logger(__name__)


def matcher_config(settings: Settings) -> matcher.MatcherConfig:
    return matcher.MatcherConfig(
        finger_dim=settings.finger_dim,
        face_dim=settings.face_dim,
        finger_threshold=settings.finger_threshold,
        face_threshold=settings.face_threshold,
        min_quality=settings.min_quality,
    )


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    master: MasterKey
    gallery: matcher.Gallery
    pipeline: BatchPipeline[PreparedTransmission, TransmissionOutcome]
    clock: Clock = field(default_factory=Clock)
    ready: threading.Event = field(default_factory=threading.Event)

    @property
    def skew(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.settings.clock_skew_seconds)

    @classmethod
    def build(cls, settings: Settings) -> Runtime:
        settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        master = load_master_key(settings)
        if master.is_dev:
            _log.warning(
                "DEV_MASTER_KEY",
                message="using a generated DEVELOPMENT master key: not for real data",
                path=str(settings.effective_master_key_file),
            )
        engine = make_engine(settings.effective_database_url)
        create_schema(engine)
        sessions = make_sessions(engine)
        gallery = matcher.Gallery(matcher_config(settings))
        pipeline: BatchPipeline[PreparedTransmission, TransmissionOutcome] = BatchPipeline(
            BatchProcessor(sessions, gallery, master),
            max_batch=settings.batch_max,
            name="abis-transmissions",
        )
        return cls(settings, engine, sessions, master, gallery, pipeline)

    def start(self) -> None:
        """Fill the gallery in the background, then start taking transmissions."""
        threading.Thread(target=self._load, name="abis-gallery-load", daemon=True).start()

    def _load(self) -> None:
        try:
            load_gallery(self.sessions, self.master, self.gallery)
        except Exception:
            _log.exception("gallery_load_failed")
            return
        self.pipeline.start()
        self.ready.set()

    def stop(self) -> None:
        self.pipeline.stop()
        self.engine.dispose()
