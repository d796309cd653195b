"""One way to stand up a gRPC service of ours (the shard's and the writer's): unary and
stream-stream methods from tables, the standard health service answering NOT_SERVING until
told otherwise, and a port bound with mutual TLS or, on loopback only, in plain text."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent import futures
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

MESSAGE_BYTES = 64 * 1024 * 1024  # a batch of probes or of added datasets, with room
CHANNEL_OPTIONS = [("grpc.max_send_message_length", MESSAGE_BYTES),
                   ("grpc.max_receive_message_length", MESSAGE_BYTES)]

# method name -> (handler, request message class, reply message class)
Methods = Mapping[str, tuple[Callable[[Any, Any], Any], Any, Any]]


def bound_server(service: str, methods: Methods, listen: str, credentials: Any | None,
                 threads: int, streams: Methods | None = None,
                 ) -> tuple[grpc.Server, health.HealthServicer]:
    """A server (not started) with `methods` (unary) and `streams` (a request iterator in,
    a reply iterator out; each open stream holds one of the `threads`) under `service`, and a
    health service that says NOT_SERVING for it until `set_serving`."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=threads),
                         options=CHANNEL_OPTIONS)
    handlers = {
        name: grpc.unary_unary_rpc_method_handler(
            method, request_deserializer=request.FromString,
            response_serializer=reply.SerializeToString)
        for name, (method, request, reply) in methods.items()
    }
    handlers.update({
        name: grpc.stream_stream_rpc_method_handler(
            method, request_deserializer=request.FromString,
            response_serializer=reply.SerializeToString)
        for name, (method, request, reply) in (streams or {}).items()
    })
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service, handlers),))
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    _set(health_servicer, service, health_pb2.HealthCheckResponse.NOT_SERVING)
    if credentials is None:
        server.add_insecure_port(listen)
    else:
        server.add_secure_port(listen, credentials)
    return server, health_servicer


def set_serving(health_servicer: health.HealthServicer, service: str) -> None:
    _set(health_servicer, service, health_pb2.HealthCheckResponse.SERVING)


def _set(health_servicer: health.HealthServicer, service: str, status: Any) -> None:
    for name in ("", service):  # the server as a whole, and the named service
        health_servicer.set(name, status)
