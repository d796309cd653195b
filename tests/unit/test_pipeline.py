from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest

from service.writer.pipeline import BatchPipeline


def test_urgent_work_goes_first_and_batches_share_one_call() -> None:
    gate, started = threading.Event(), threading.Event()
    batches: list[list[str]] = []

    def handle(items: Sequence[str]) -> list[str | BaseException]:
        started.set()
        gate.wait(5)
        batches.append(list(items))
        return [item.upper() for item in items]

    pipeline: BatchPipeline[str, str] = BatchPipeline(handle, max_batch=10, name="t")
    pipeline.start()
    first = pipeline.submit("first")  # taken alone while the gate holds the worker
    assert started.wait(5)
    later = [pipeline.submit(name) for name in ("a", "b")]
    urgent = pipeline.submit("urgent", urgent=True)
    gate.set()
    assert first.result(5) == "FIRST"
    assert urgent.result(5) == "URGENT"
    assert [future.result(5) for future in later] == ["A", "B"]
    pipeline.stop()
    assert batches[-1] == ["urgent", "a", "b"]


def test_a_failing_item_fails_alone_and_a_crashing_handler_fails_its_batch() -> None:
    def handle(items: Sequence[str]) -> list[str | BaseException]:
        if "crash" in items:
            raise RuntimeError("bug")
        return [ValueError(item) if item == "bad" else item for item in items]

    pipeline: BatchPipeline[str, str] = BatchPipeline(handle, max_batch=10, name="t")
    pipeline.start()
    good, bad = pipeline.submit("good"), pipeline.submit("bad")
    assert good.result(5) == "good"
    with pytest.raises(ValueError):
        bad.result(5)
    with pytest.raises(RuntimeError):
        pipeline.submit("crash").result(5)
    assert pipeline.submit("after").result(5) == "after"  # the worker survived
    pipeline.stop()
