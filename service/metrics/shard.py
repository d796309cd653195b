"""A shard's metrics (`abis shard`, on its exporter): its partition, how far it has applied the
index log and how far behind the committed sequence it is, its searches and their latency,
the change batches pushed to it, the gallery's size, its snapshot's age and its health.
Counters are kept on the request path; the rest is read from the partition at scrape time.
Labels are the partition's number only: nothing about persons or templates."""

from __future__ import annotations

import time
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from service.shard.partition import Partition

REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)  # the replica's memory: what sizing needs

SEARCHES = Counter(
    "abis_shard_searches", "Search calls, by outcome (answered, behind: refused until caught "
    "up, refused: loading or stale epoch, invalid).", ["outcome"], registry=REGISTRY)
SEARCH_PROBES = Counter("abis_shard_search_probes", "Probes searched (a call holds a batch).",
                        registry=REGISTRY)
SEARCH_SECONDS = Histogram(
    "abis_shard_search_duration_seconds", "Time to answer a search call (one batch of probes), "
    "catch-up included.", registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0))
APPLY_BATCHES = Counter("abis_shard_apply_batches", "Change batches pushed by the writer.",
                        registry=REGISTRY)
APPLY_CHANGES = Counter("abis_shard_apply_changes", "Gallery changes pushed by the writer.",
                        registry=REGISTRY)


def _gauge(name: str, documentation: str, value: float, partition: int) -> GaugeMetricFamily:
    gauge = GaugeMetricFamily(name, documentation, labels=["partition"])
    gauge.add_metric([str(partition)], value)
    return gauge


class ShardCollector(Collector):
    def __init__(self, partition: Partition) -> None:
        self.partition = partition

    def collect(self) -> Iterator[GaugeMetricFamily]:
        part = self.partition
        number = part.partition
        info = GaugeMetricFamily("abis_shard_partition", "This replica's partition (value 1).",
                                 labels=["partition", "partitions"])
        info.add_metric([str(part.partition), str(part.partitions)], 1.0)
        yield info
        yield _gauge("abis_shard_ready", "1 once the partition is loaded and caught up (health "
                     "SERVING), 0 while loading or rebuilding.",
                     float(part.ready.is_set()), number)
        yield _gauge("abis_shard_applied_seq", "The index-log sequence applied so far.",
                     float(part.applied), number)
        yield _gauge("abis_shard_known_seq", "The highest committed sequence a writer has sent.",
                     float(part.known), number)
        yield _gauge("abis_shard_lag_seq", "Sequences between the committed one the writer sent "
                     "and the one applied (0: caught up).",
                     float(max(0, part.known - part.applied)), number)
        yield _gauge("abis_shard_epoch", "The writer epoch this replica obeys.",
                     float(part.epoch), number)
        yield _gauge("abis_shard_gallery_datasets", "Datasets in this partition.",
                     float(len(part.gallery)), number)
        yield _gauge("abis_shard_gallery_bytes", "Bytes of this partition's index.",
                     float(part.gallery.nbytes()), number)
        yield _gauge("abis_shard_rechecks", "Candidates re-scored exactly from the store so "
                     "far.", float(part.gallery.rechecked), number)
        yield _gauge("abis_shard_rebuilds", "Rebuilds from the store because the log was pruned "
                     "past this replica.", float(part.rebuilds), number)
        if part.snapshot_at is not None:
            yield _gauge("abis_shard_snapshot_age_seconds", "Seconds since this replica's "
                         "encrypted snapshot was written (absent without one).",
                         max(0.0, time.time() - part.snapshot_at), number)
            yield _gauge("abis_shard_snapshot_seq", "The sequence this replica's snapshot "
                         "holds.", float(part.snapshot_seq or 0), number)


def shard_registry(partition: Partition) -> CollectorRegistry:
    """The process's counters and the partition's gauges, to serve together."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Both(partition))
    return registry


class _Both(Collector):
    def __init__(self, partition: Partition) -> None:
        self._gauges = ShardCollector(partition)

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()
        yield from self._gauges.collect()
