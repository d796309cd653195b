"""The API worker's side of the writer protocol: what `Runtime.pipeline` and `Runtime.gallery`
are in an `abis api` worker, which holds no gallery and no queue of its own.

`submit` has the embedded pipeline's contract (a future that holds the result, or raises the
ServiceError of a refusal), so routes and the audit middleware run unchanged. A writer that
cannot be reached, is loading or did not answer in time is a NotReady (503, retry): the
transmission was either not taken or committed, never acknowledged and then lost.

Writes from the worker's event loop go on one SubmitStream (`stream_client`: the writes pending
at a moment in one message, answers as the writer's batches commit); a write from a thread
without a loop is one unary Submit call.

Back-pressure: a worker has at most `writer_in_flight` normal writes at the writer at once and
the rest wait here, before their deadline starts. A bulk load of thousands of items then waits
instead of timing out, and the writer's queue stays bounded by workers x that.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any

import grpc
import structlog
from grpc_health.v1 import health_pb2, health_pb2_grpc

import matcher
from service.errors import NotReady, ServiceError
from service.settings import Settings
from service.shard import codec
from service.shard.protocol import shard_pb2
from service.shard.rpc_server import CHANNEL_OPTIONS
from service.shard.tls import channel_credentials, require_tls_off_loopback
from service.writer import wire
from service.writer.commands import IndexChange, WorkItem, WorkResult
from service.writer.gallery import Searched
from service.writer.protocol import writer_pb2 as pb
from service.writer.server import SERVICE
from service.writer.stream_client import StreamSubmitter

_log = structlog.get_logger(__name__)
_HEALTH_POLL_SECONDS = 0.5


def _unavailable(error: grpc.RpcError) -> ServiceError:
    code = error.code()
    if code is grpc.StatusCode.DEADLINE_EXCEEDED:
        return NotReady("the writer did not answer in time; a retry with the same reference "
                        "number tells whether the transmission was stored")
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED):
        return NotReady("the writer is not reachable; retry shortly")
    _log.error("writer_call_failed", code=code.name)
    return ServiceError("the writer failed this request; nothing is acknowledged")


def _stream_failure(error: grpc.RpcError | None) -> ServiceError:
    """What a write's broken stream (or the writer's answer that it could not do it) means."""
    if error is None:  # the writer ended the stream: it is stopping
        return NotReady("the writer is stopping; retry shortly")
    return _unavailable(error)


def _settle(done: Future[WorkResult], item: WorkItem, reply: Callable[[], Any]) -> None:
    """Complete `done` from a finished call: its result, its refusal, or a NotReady."""
    try:
        result = wire.result_from_pb(reply(), item.audit)
    except grpc.RpcError as error:
        done.set_exception(_unavailable(error))
        return
    except asyncio.CancelledError:  # the worker is shutting down under the call
        done.set_exception(NotReady("the request was cancelled; retry"))
        return
    except Exception as error:  # a malformed reply: fail the request, not the worker
        done.set_exception(error)
        return
    if isinstance(result, ServiceError):
        done.set_exception(result)
    else:
        done.set_result(result)


class RemoteWriter:
    def __init__(self, settings: Settings, config: matcher.MatcherConfig) -> None:
        address = settings.writer
        if address is None:
            raise ValueError("RemoteWriter needs ABIS_WRITER")
        credentials = channel_credentials(settings)
        require_tls_off_loopback(address, credentials is not None)
        self._channel = (grpc.insecure_channel(address, options=CHANNEL_OPTIONS)
                         if credentials is None
                         else grpc.secure_channel(address, credentials, options=CHANNEL_OPTIONS))
        self._submit = self._channel.unary_unary(
            f"/{SERVICE}/Submit", request_serializer=pb.WorkRequest.SerializeToString,
            response_deserializer=pb.WorkReply.FromString)
        self._search = self._channel.unary_unary(
            f"/{SERVICE}/Search", request_serializer=shard_pb2.SearchRequest.SerializeToString,
            response_deserializer=shard_pb2.SearchReply.FromString)
        self._health = health_pb2_grpc.HealthStub(self._channel)
        self._address, self._credentials = address, credentials
        # Submits from the worker's event loop go over an asyncio channel on that loop: the
        # synchronous channel's future() costs a thread hand-off per call (a fifth of a worker's
        # CPU in the profile, docs/api-tier.md).
        self._loop_stream: tuple[asyncio.AbstractEventLoop, Any, StreamSubmitter] | None = None
        self._timeout = settings.writer_timeout_seconds
        self._in_flight_limit = settings.writer_in_flight
        self._answered = 0.0  # time.monotonic() of the writer's last answer to a unary call
        self._config = config
        self.ready = threading.Event()  # the writer answered SERVING at the last poll
        self._stop = threading.Event()
        self._in_flight = {"urgent": 0, "normal": 0}
        self._in_flight_lock = threading.Lock()

    # --- the pipeline's part ---------------------------------------------------------------

    def start(self) -> None:
        threading.Thread(target=self._watch, name="abis-writer-health", daemon=True).start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()

    @property
    def depth(self) -> int:
        """Items this worker handed to the writer and still awaits (the writer's own queue is
        the writer's to report)."""
        return sum(self.waiting().values())

    @property
    def batches(self) -> int | None:
        return None  # counted by the writer process, not by an API worker

    def waiting(self) -> dict[str, int]:
        with self._in_flight_lock:
            return dict(self._in_flight)

    def submit(self, item: WorkItem, *, urgent: bool = False) -> Future[WorkResult]:
        done: Future[WorkResult] = Future()
        priority = "urgent" if urgent else "normal"
        with self._in_flight_lock:
            self._in_flight[priority] += 1

        def settled(_: Future[WorkResult]) -> None:
            with self._in_flight_lock:
                self._in_flight[priority] -= 1

        done.add_done_callback(settled)
        try:
            request = wire.work_to_pb(item, urgent)
        except wire.WireError as error:
            done.set_exception(ServiceError(str(error)))
            return done
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not on an event loop (a thread): the synchronous channel
            call = self._submit.future(request, timeout=self._timeout)
            call.add_done_callback(lambda call: self._settled_call(done, item, call))
            return done
        self._stream_on(loop).submit(done, item, request, urgent)
        return done

    def _stream_on(self, loop: asyncio.AbstractEventLoop) -> StreamSubmitter:
        if self._loop_stream is None or self._loop_stream[0] is not loop:
            channel = (grpc.aio.insecure_channel(self._address, options=CHANNEL_OPTIONS)
                       if self._credentials is None
                       else grpc.aio.secure_channel(self._address, self._credentials,
                                                    options=CHANNEL_OPTIONS))
            method = channel.stream_stream(
                f"/{SERVICE}/SubmitStream",
                request_serializer=pb.Submissions.SerializeToString,
                response_deserializer=pb.Answers.FromString)
            self._loop_stream = (loop, channel, StreamSubmitter(
                method, _settle, _stream_failure, timeout=self._timeout,
                in_flight=self._in_flight_limit))
        return self._loop_stream[2]

    def _settled_call(self, done: Future[WorkResult], item: WorkItem, call: Any) -> None:
        if call.exception() is None:
            self._answered = time.monotonic()
        _settle(done, item, call.result)

    def _last_answer(self) -> float:
        stream = self._loop_stream
        return max(self._answered, 0.0 if stream is None else stream[2].answered)

    def _watch(self) -> None:
        request = health_pb2.HealthCheckRequest(service=SERVICE)
        while not self._stop.is_set():
            try:
                status = self._health.Check(request, timeout=1.0).status
                serving = status == health_pb2.HealthCheckResponse.SERVING
            except grpc.RpcError as error:
                serving = self._busy(error)
            if serving:
                self.ready.set()
            else:
                self.ready.clear()
            self._stop.wait(_HEALTH_POLL_SECONDS)

    def _busy(self, error: grpc.RpcError) -> bool:
        """A check that timed out while the writer still answers writes means a busy writer
        (e.g. its handler threads held by unary calls), not one that is loading or gone: stay
        ready. A refused connection, or no answer to anything for the writer timeout, is
        unready."""
        return (error.code() is grpc.StatusCode.DEADLINE_EXCEEDED and self.ready.is_set()
                and time.monotonic() - self._last_answer() < self._timeout)

    # --- the gallery's part (evaluation searches and the readiness count) --------------------

    @property
    def config(self) -> matcher.MatcherConfig:
        return self._config

    @property
    def partitions(self) -> int:
        return 1

    def _call_search(self, request: shard_pb2.SearchRequest) -> shard_pb2.SearchReply:
        try:
            reply: shard_pb2.SearchReply = self._search(request, timeout=self._timeout)
        except grpc.RpcError as error:
            raise _unavailable(error) from None
        return reply

    def __len__(self) -> int:
        return int(self._call_search(shard_pb2.SearchRequest()).size)

    def search(self, probes: Sequence[matcher.Templates],
               eligibles: Sequence[matcher.Eligibility], *,
               finger_threshold: float | None = None, face_threshold: float | None = None,
               limit: int | None = None, min_seq: int = 0,
               prepared: matcher.PreparedBatch | None = None) -> Searched:
        del prepared  # the writer prepares what it receives
        config = self._config
        reply = self._call_search(shard_pb2.SearchRequest(
            probes=[codec.templates_to_pb(probe) for probe in probes],
            eligibles=[codec.eligibility_to_pb(eligible) for eligible in eligibles],
            finger_threshold=config.finger_threshold if finger_threshold is None
            else finger_threshold,
            face_threshold=config.face_threshold if face_threshold is None else face_threshold,
            limit=limit or 0,
        ))
        return Searched([matcher.SearchOutcome(tuple(codec.hits_from_pb(outcome)))
                         for outcome in reply.outcomes])

    def apply(self, changes: Sequence[IndexChange], after: int, upto: int | None) -> None:
        raise TypeError("an API worker holds no gallery: only the writer applies changes")

    def close(self) -> None:
        self._stop.set()
        self._channel.close()
