"""The writer's batch thread carries its name to the OS, so the load test can measure its CPU
(the serial part of the tier's cost) apart from the rest of the process."""

from __future__ import annotations

import os
from collections.abc import Sequence

from loadtests.processes import thread_cpu_seconds, used_between
from service.writer.pipeline import BatchPipeline


def _spin(items: Sequence[int]) -> list[int]:
    total = 0
    for number in range(300_000):  # CPU the thread's own counter must show
        total += number
    return [total + item for item in items]


def test_the_pipeline_thread_is_found_by_name_and_its_cpu_counted() -> None:
    name = "abis-test-pipe"
    pipeline: BatchPipeline[int, int] = BatchPipeline(_spin, max_batch=1, name=name)
    before = thread_cpu_seconds(os.getpid(), name)
    pipeline.start()
    for _ in range(5):
        pipeline.submit(1).result(timeout=30)
    after = thread_cpu_seconds(os.getpid(), name)
    pipeline.stop()
    assert before == {}
    assert len(after) == 1 and next(iter(after))[0] == os.getpid()
    assert used_between(before, after) > 0
    assert thread_cpu_seconds(os.getpid(), "no-such-thread") == {}
