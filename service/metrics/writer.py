"""The writer's gauges (in the process that writes: `abis serve` at /metrics, `abis writer` on
its exporter), besides the process-wide metrics (batch sizes and durations, identifications)
and the runtime's gauges (ready, gallery size per partition, queue depth, audit checkpoint):
its lease and epoch, the committed sequence of the index log and how far the log is pruned,
and the replicas' reports that hold it back.
Read at scrape time; labels name replicas (partition/partitions@host:port), never persons."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import structlog
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from service.runtime import Runtime
from service.writer import index_log, log_pruning
from service.writer.models import ReplicaReportRow

_log = structlog.get_logger(__name__)


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    gauge = GaugeMetricFamily(name, documentation)
    gauge.add_metric([], value)
    return gauge


class WriterCollector(Collector):
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def collect(self) -> Iterator[Metric]:
        runtime = self.runtime
        yield _gauge("abis_writer_lease_held", "1 while this writer holds the lease (only the "
                     "holder writes; a standby waits).", float(runtime.lease is not None))
        yield _gauge("abis_writer_epoch", "The epoch of this writer's lease (grows on every "
                     "takeover; shards refuse older ones).",
                     float(runtime.lease.epoch if runtime.lease is not None else 0))
        try:
            with runtime.sessions() as session:
                committed = index_log.committed_seq(session)
                pruned = log_pruning.pruned_through(session)
                reports = session.execute(select(ReplicaReportRow.replica,
                                                 ReplicaReportRow.needs_after,
                                                 ReplicaReportRow.reported_at)).all()
        except SQLAlchemyError:  # a scrape must not fail with the database away for a moment
            _log.warning("writer_metrics_database_unavailable")
            return
        yield _gauge("abis_writer_committed_seq", "The last committed index-log sequence.",
                     float(committed))
        yield _gauge("abis_index_log_pruned_through", "Index-log rows up to this sequence are "
                     "pruned.", float(pruned))
        needs = GaugeMetricFamily("abis_index_log_replica_needs_after", "The sequence after "
                                  "which each shard replica may still need the log (its "
                                  "snapshot's), as it last reported.", labels=["replica"])
        age = GaugeMetricFamily("abis_index_log_replica_report_age_seconds",
                                "Seconds since each shard replica last reported.",
                                labels=["replica"])
        now = dt.datetime.now(dt.UTC)
        for replica, needs_after, reported_at in reports:
            if reported_at.tzinfo is None:  # SQLite gives naive UTC back
                reported_at = reported_at.replace(tzinfo=dt.UTC)
            needs.add_metric([replica], float(needs_after))
            age.add_metric([replica], max(0.0, (now - reported_at).total_seconds()))
        yield needs
        yield age
