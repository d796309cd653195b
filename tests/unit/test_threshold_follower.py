"""Thresholds that follow the gallery size: recalibrated on growth, every change audited."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import Future

import numpy as np

import matcher
from service.audit.events import Operation, finish
from service.lifecycle.thresholds import CALIBRATION_ROUTE, ThresholdFollower
from service.writer.commands import Command, WorkResult
from tooling.bench.population import gallery as synthetic
from tooling.synth.profiles import profile_model


def _gallery(size: int, start: int = 0) -> list[tuple[int, matcher.Templates, matcher.EntryMeta]]:
    entries = []
    for chunk, _ in synthetic(5 + start, size, profile_model("tenprint"),
                              np.zeros(0, dtype=np.int64)):
        entries += [(start + i, t, m) for i, t, m in
                    zip(chunk.ids, chunk.templates, chunk.metas, strict=True)]
    return entries


def test_thresholds_follow_growth_and_each_change_is_an_audit_event() -> None:
    gallery = matcher.Gallery(matcher.MatcherConfig(), index=matcher.IndexKind.EXACT)
    gallery.add_many(_gallery(600))
    commands: list[Command] = []

    def submit(command: Command) -> Future[WorkResult]:
        commands.append(command)
        done = command.run(None, dt.datetime.now(dt.UTC))  # type: ignore[arg-type]
        assert done.then is not None
        done.then()  # the writer applies it once the event is committed
        future: Future[WorkResult] = Future()
        future.set_result(done.value)
        return future

    follower = ThresholdFollower(submit, gallery, 1e-3, growth=0.5, interval=3600)
    assert follower.follow_once()
    first = gallery.config.finger_threshold, gallery.config.face_threshold
    assert first != (0.5, 0.35)
    assert not follower.follow_once()  # unchanged size: nothing to do, nothing audited
    gallery.add_many(_gallery(600, start=10_000))  # doubled: a stricter threshold
    assert follower.follow_once()
    assert gallery.config.finger_threshold > first[0]
    assert gallery.config.face_threshold > first[1]
    assert len(commands) == 2
    audit = commands[1].audit
    assert audit is not None and audit.route == CALIBRATION_ROUTE
    event = finish(audit, 200, dt.datetime.now(dt.UTC))
    assert event.operation == Operation.THRESHOLDS.value == "matcher:thresholds"
    assert audit.operation is Operation.THRESHOLDS  # named by the follower, not its route
    assert event.body["outcome"]["before"]["finger_threshold"] == first[0]
    assert event.body["outcome"]["after"]["gallery_size"] == 1200
