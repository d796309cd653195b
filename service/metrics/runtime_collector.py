"""Gauges read from the running service at scrape time (no bookkeeping on the hot path)."""

from __future__ import annotations

import time
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from service.runtime import Runtime
from service.shard.remote import RemoteGallery


class RuntimeCollector(Collector):
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.started = time.time()

    def collect(self) -> Iterator[GaugeMetricFamily]:
        runtime = self.runtime
        ready = GaugeMetricFamily("abis_ready", "1 once the gallery is loaded and "
                                  "transmissions are taken.")
        ready.add_metric([], 1.0 if runtime.ready.is_set() else 0.0)
        yield ready
        gallery = GaugeMetricFamily(
            "abis_gallery_datasets", "Datasets in the gallery index, per partition (one "
            "partition, 0, in the embedded default; as the shards last reported otherwise).",
            labels=["partition"])
        sizes = (runtime.gallery.sizes if isinstance(runtime.gallery, RemoteGallery)
                 else (len(runtime.gallery),))
        for partition, size in enumerate(sizes):
            gallery.add_metric([str(partition)], float(size))
        yield gallery
        queue = GaugeMetricFamily("abis_writer_queue_depth",
                                  "Work items waiting for the writer, by priority.",
                                  labels=["priority"])
        for priority, waiting in runtime.pipeline.waiting().items():
            queue.add_metric([priority], float(waiting))
        yield queue
        if runtime.audit is not None:
            checkpointed_at = runtime.audit.checkpointed_at
            since = checkpointed_at.timestamp() if checkpointed_at else self.started
            age = GaugeMetricFamily(
                "abis_audit_checkpoint_age_seconds",
                "Seconds since the last signed audit checkpoint (since start if none).")
            age.add_metric([], max(0.0, runtime.clock.now().timestamp() - since))
            yield age
            unsigned = GaugeMetricFamily("abis_audit_unsigned_events",
                                         "Audit events after the last signed checkpoint.")
            unsigned.add_metric([], float(runtime.audit.unsigned_events))
            yield unsigned
