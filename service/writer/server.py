"""`abis writer`: the one ordered writer served over gRPC to stateless API workers (`abis api`).

An API worker sends its writes on one SubmitStream (`stream_server`: many writes per message,
answers as batches commit); a Submit call is one prepared work item (callers without an event
loop). Either way an item joins the writer's queue (urgent first) and is answered only after
the batch that holds it has committed. A refusal travels back as a
Problem (the ServiceError the embedded service would raise); UNAVAILABLE means the writer is
loading its gallery or shutting down: the API worker answers 503 and the client retries.
The Search method answers evaluation searches with the shard protocol's messages.
"""

from __future__ import annotations

import signal
import threading
from concurrent.futures import Future
from typing import Any

import grpc
import structlog

import matcher
from service.errors import NotReady, ServiceError
from service.metrics.exporter import start_exporter
from service.metrics.http import exporter_registry
from service.runtime import Runtime
from service.shard import codec
from service.shard.protocol import shard_pb2
from service.shard.rpc_server import Methods, bound_server, set_serving
from service.writer import wire
from service.writer.commands import Transmit, WorkItem, WorkResult
from service.writer.protocol import writer_pb2 as pb
from service.writer.remote_commands import command_builder
from service.writer.stream_server import StreamEndpoint, Taken

_log = structlog.get_logger(__name__)
SERVICE = "abis.writer.v1.Writer"
# A unary Submit waiting for its batch holds a thread (a stream holds one for all its writes):
# room for callers without a stream, every worker's stream, and the health checks.
HANDLER_THREADS = 128


class WriterService:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._build = command_builder(runtime.master)
        self.stream = StreamEndpoint(self.take, self.answer)

    def take(self, request: pb.WorkRequest) -> Taken:
        """Queue one request's work (or say why not: a status code name)."""
        try:
            item = wire.work_from_pb(request, self._build)
        except wire.WireError as error:
            _log.warning("writer_malformed_work", error=str(error))
            return Taken(None, grpc.StatusCode.INVALID_ARGUMENT.name, str(error))
        if isinstance(item, Transmit) and not self.runtime.ready.is_set():
            loading: Future[WorkResult] = Future()
            loading.set_exception(NotReady("the gallery is still loading; retry shortly"))
            return Taken(item, loading)
        return Taken(item, self.runtime.pipeline.submit(item, urgent=request.urgent))

    def answer(self, item: WorkItem | None, done: Future[WorkResult]) -> pb.WorkReply | str:
        """A done item's reply (its result or refusal), or INTERNAL when the writer failed it."""
        assert item is not None
        try:
            reply: pb.WorkReply = wire.result_to_pb(item, done.result())
            return reply
        except ServiceError as error:
            return wire.result_to_pb(item, error)
        except Exception:
            _log.exception("writer_item_failed")
            return str(grpc.StatusCode.INTERNAL.name)

    def submit(self, request: pb.WorkRequest, context: Any) -> pb.WorkReply:
        taken = self.take(request)
        if isinstance(taken.outcome, str):
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, taken.detail)
        assert not isinstance(taken.outcome, str)
        reply = self.answer(taken.item, taken.outcome)
        if isinstance(reply, str):
            context.abort(grpc.StatusCode.INTERNAL, "the writer failed this item")
        assert not isinstance(reply, str)
        return reply

    def search(self, request: shard_pb2.SearchRequest, context: Any) -> shard_pb2.SearchReply:
        if not self.runtime.ready.is_set():
            context.abort(grpc.StatusCode.UNAVAILABLE, "loading")
        gallery = self.runtime.gallery
        probes = [codec.templates_from_pb(probe) for probe in request.probes]
        try:
            searched = gallery.search(
                probes, [codec.eligibility_from_pb(e) for e in request.eligibles],
                finger_threshold=request.finger_threshold,
                face_threshold=request.face_threshold, limit=request.limit or None,
            ) if probes else None
        except (matcher.MatcherError, ValueError) as error:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, type(error).__name__)
        except NotReady as error:
            context.abort(grpc.StatusCode.UNAVAILABLE, error.detail)
        outcomes = [] if searched is None else searched.outcomes
        return shard_pb2.SearchReply(outcomes=[codec.outcome_to_pb(o) for o in outcomes],
                                     size=len(gallery))

    def methods(self) -> Methods:
        return {"Submit": (self.submit, pb.WorkRequest, pb.WorkReply),
                "Search": (self.search, shard_pb2.SearchRequest, shard_pb2.SearchReply)}

    def streams(self) -> Methods:
        return {"SubmitStream": (self.stream, pb.Submissions, pb.Answers)}


def serve(runtime: Runtime, listen: str, credentials: Any | None,
          stop: threading.Event | None = None, metrics_listen: str | None = None) -> None:
    """Serve until SIGTERM/SIGINT (or `stop`): NOT_SERVING until the gallery is loaded; on the
    way out the queue is finished (every accepted item answered) before the port closes.
    With `metrics_listen`, a Prometheus exporter serves the writer's metrics there."""
    stop = stop or threading.Event()
    exporter = (None if metrics_listen is None
                else start_exporter(metrics_listen, exporter_registry(runtime)))
    service = WriterService(runtime)
    server, health_servicer = bound_server(SERVICE, service.methods(), listen, credentials,
                                           threads=HANDLER_THREADS, streams=service.streams())
    runtime.start()
    server.start()
    _log.info("writer_listening", listen=listen, tls=credentials is not None)
    for sig in (signal.SIGTERM, signal.SIGINT):
        if threading.current_thread() is threading.main_thread():
            signal.signal(sig, lambda *_: stop.set())

    def serving_when_ready() -> None:
        while not runtime.ready.wait(0.2):
            if stop.is_set():
                return
        set_serving(health_servicer, SERVICE)

    threading.Thread(target=serving_when_ready, name="abis-writer-ready", daemon=True).start()
    stop.wait()
    health_servicer.enter_graceful_shutdown()
    service.stream.close()  # streams end once what they took is answered
    server.stop(grace=10).wait()
    runtime.stop()
    if exporter is not None:
        exporter.shutdown()
