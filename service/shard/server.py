"""`abis shard`: one partition of the gallery served over gRPC, with the standard health service
(NOT_SERVING until the partition is loaded and caught up with the log, then SERVING).

Status codes the writer acts on: PERMISSION_DENIED (its epoch was superseded: it is fenced),
UNAVAILABLE (loading, or behind the search's sequence: ask another replica).
"""

from __future__ import annotations

import signal
import threading
import time
from typing import Any

import grpc
import structlog

import matcher
from service.metrics import shard as metrics
from service.metrics.exporter import start_exporter
from service.shard import codec
from service.shard.partition import Behind, Partition, StaleEpoch
from service.shard.protocol import shard_pb2 as pb
from service.shard.rpc_server import Methods, bound_server, set_serving

_log = structlog.get_logger(__name__)
SERVICE = "abis.shard.v1.Shard"
_FOLLOW_SECONDS = 1.0


class ShardService:
    def __init__(self, partition: Partition) -> None:
        self.partition = partition

    def _admit(self, epoch: int, context: Any) -> None:
        try:
            self.partition.admit(epoch)
        except StaleEpoch as error:
            context.abort(grpc.StatusCode.PERMISSION_DENIED, f"stale-epoch: {error}")
        if not self.partition.ready.is_set():
            context.abort(grpc.StatusCode.UNAVAILABLE, "loading")

    def search(self, request: pb.SearchRequest, context: Any) -> pb.SearchReply:
        started = time.perf_counter()
        outcome = "refused"
        try:
            reply = self._search(request, context)
            outcome = "answered"
            return reply
        except Behind as error:
            outcome = "behind"
            context.abort(grpc.StatusCode.UNAVAILABLE, f"behind: {error}")
        except (matcher.MatcherError, ValueError) as error:
            outcome = "invalid"
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, type(error).__name__)
        finally:
            metrics.SEARCHES.labels(outcome).inc()
            metrics.SEARCH_SECONDS.observe(time.perf_counter() - started)
        raise AssertionError("context.abort raises")

    def _search(self, request: pb.SearchRequest, context: Any) -> pb.SearchReply:
        gallery = self.partition.gallery  # the one `ensure` vouches for, unless rebuilt
        self._admit(request.epoch, context)
        self.partition.ensure(request.min_seq)
        metrics.SEARCH_PROBES.inc(len(request.probes))
        outcomes = gallery.search_many(
            [codec.templates_from_pb(probe) for probe in request.probes],
            [codec.eligibility_from_pb(eligible) for eligible in request.eligibles],
            finger_threshold=request.finger_threshold,
            face_threshold=request.face_threshold,
            limit=request.limit or None,
        )
        if self.partition.gallery is not gallery:  # rebuilt from the store meanwhile
            raise Behind("the partition was rebuilt during the search")
        return pb.SearchReply(
            outcomes=[codec.outcome_to_pb(outcome) for outcome in outcomes],
            applied_seq=self.partition.applied, epoch=self.partition.epoch,
            size=len(gallery), rechecked=gallery.rechecked,
        )

    def apply(self, request: pb.ApplyRequest, context: Any) -> pb.ApplyReply:
        self._admit(request.epoch, context)
        changes = codec.changes_from_pb(request.changes)
        metrics.APPLY_BATCHES.inc()
        metrics.APPLY_CHANGES.inc(len(changes))
        self.partition.apply(request.from_seq, request.upto_seq, changes)
        return pb.ApplyReply(applied_seq=self.partition.applied,
                             size=len(self.partition.gallery))

    def methods(self) -> Methods:
        return {"Search": (self.search, pb.SearchRequest, pb.SearchReply),
                "Apply": (self.apply, pb.ApplyRequest, pb.ApplyReply)}


def serve(partition: Partition, listen: str, credentials: Any | None,
          stop: threading.Event | None = None, metrics_listen: str | None = None) -> None:
    """Serve until SIGTERM/SIGINT (or `stop`); the partition loads once the port is open, so
    the health service answers NOT_SERVING meanwhile. With `metrics_listen`, a Prometheus
    exporter serves the shard's metrics there."""
    stop = stop or threading.Event()
    exporter = (None if metrics_listen is None
                else start_exporter(metrics_listen, metrics.shard_registry(partition)))
    server, health_servicer = bound_server(SERVICE, ShardService(partition).methods(), listen,
                                           credentials, threads=8)
    server.start()
    _log.info("shard_listening", listen=listen, partition=partition.partition,
              partitions=partition.partitions, tls=credentials is not None)
    for sig in (signal.SIGTERM, signal.SIGINT):
        if threading.current_thread() is threading.main_thread():
            signal.signal(sig, lambda *_: stop.set())

    def load_then_follow() -> None:
        try:
            partition.load()
        except Exception:
            _log.exception("partition_load_failed")
            stop.set()
            return
        set_serving(health_servicer, SERVICE)
        while not stop.wait(_FOLLOW_SECONDS):
            try:
                partition.follow_once()
            except Exception:  # the database may be away for a while: try again
                _log.exception("partition_follow_failed")

    threading.Thread(target=load_then_follow, name="abis-shard-load", daemon=True).start()
    stop.wait()
    health_servicer.enter_graceful_shutdown()
    server.stop(grace=5).wait()
    if exporter is not None:
        exporter.shutdown()
    if partition.ready.is_set():
        partition.save()
