"""Thresholds that follow the gallery size (ABIS_TARGET_FPIR): recalibrated from the gallery's
own impostor scores whenever it has grown or shrunk by `calibrate_growth` since the last time,
each change an audited event written by the writer (operation `matcher:thresholds`).

The sample is read from the gallery in this process, or (ABIS_SHARDS) from the store, the
source of truth: the API process holds no templates then. With ABIS_SCORE_NORMALISATION=cohort
the service's cohort is passed, so the finger threshold found is a z threshold, as served."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sized
from concurrent.futures import Future
from typing import Protocol

import structlog
from sqlalchemy.orm import Session

import matcher
from service.audit.events import Operation
from service.lifecycle.retention import system_audit
from service.periodic import Periodic
from service.scores.calibration import (
    Calibration,
    CalibrationError,
    GallerySample,
    Sample,
    calibrate_sample,
)
from service.writer.commands import Command, CommandDone, WorkResult

CALIBRATION_ROUTE = "threshold-calibration"
_log = structlog.get_logger(__name__)


class Thresholded(Sized, Protocol):
    """What holds the thresholds in force: matcher.Gallery, LocalGallery, RemoteGallery."""

    @property
    def config(self) -> matcher.MatcherConfig: ...

    def set_thresholds(self, finger_threshold: float, face_threshold: float) -> None: ...


def threshold_command(gallery: Thresholded, calibration: Calibration) -> Command:
    """Record the change, then apply it once the audit event is committed."""
    audit = system_audit(CALIBRATION_ROUTE,
                         f"hold FPIR {calibration.target_fpir:g} at the gallery's size",
                         operation=Operation.THRESHOLDS)
    audit.outcome = {"before": {"finger_threshold": gallery.config.finger_threshold,
                                "face_threshold": gallery.config.face_threshold},
                     "after": calibration.as_dict()}

    def run(_session: Session, _now: dt.datetime) -> CommandDone:
        return CommandDone(calibration.as_dict(), then=lambda: gallery.set_thresholds(
            calibration.finger_threshold, calibration.face_threshold))

    return Command(run, audit)


class ThresholdFollower:
    """Checks the gallery size every `interval` seconds; recalibrates when it moved enough."""

    def __init__(self, submit: Callable[[Command], Future[WorkResult]], gallery: Thresholded,
                 target_fpir: float, growth: float, interval: float, *,
                 sample: Sample | None = None,
                 cohort: Callable[[], matcher.Cohort | None] = lambda: None) -> None:
        """`sample`: where templates are read (default: `gallery`, a matcher.Gallery);
        `cohort`: the normalisation cohort in force, if any, read at each calibration."""
        if sample is None:
            if not isinstance(gallery, matcher.Gallery):
                raise TypeError("a gallery that holds no templates needs a sample")
            sample = GallerySample(gallery)
        self._submit = submit
        self._gallery = gallery
        self._sample = sample
        self._cohort = cohort
        self._target = target_fpir
        self._growth = growth
        self.calibrated_size: int | None = None
        self._periodic = Periodic("abis-thresholds", interval, self.follow_once,
                                  "threshold_calibration_failed")

    def start(self) -> None:
        self._periodic.start()

    def stop(self) -> None:
        self._periodic.stop()

    def follow_once(self) -> bool:
        """Recalibrate if the gallery moved by the growth share; whether it did."""
        size = len(self._gallery)
        last = self.calibrated_size
        if last is not None and abs(size - last) < self._growth * max(last, 1):
            return False
        try:
            calibration = calibrate_sample(self._sample, self._gallery.config, self._target,
                                           cohort=self._cohort())
        except CalibrationError as error:
            _log.info("threshold_calibration_skipped", reason=str(error), size=size)
            return False
        self._submit(threshold_command(self._gallery, calibration)).result()
        self.calibrated_size = size
        _log.info("thresholds_calibrated", size=size,
                  finger_threshold=round(calibration.finger_threshold, 4),
                  face_threshold=round(calibration.face_threshold, 4))
        return True
