"""`python -m service.grpc_healthcheck writer|shard`: the container's probe of `abis writer` or
`abis shard`, through the standard gRPC health service (grpc_health).

Exit 0 when the process on 127.0.0.1, at the port of ABIS_WRITER_LISTEN or ABIS_SHARD_LISTEN,
answers SERVING (a shard: its partition loaded and caught up; the writer: its gallery
loaded), else 1. It is needed because the kubelet's and compose's own gRPC probes speak no
TLS, and off loopback both tiers require mutual TLS: with ABIS_INTERNAL_TLS_CA_FILE,
ABIS_INTERNAL_TLS_CERT_FILE and ABIS_INTERNAL_TLS_KEY_FILE set, the probe presents the process's
own certificate and checks the server's as `localhost`: keep that name in the certificates
(`abis dev-certs --host localhost`, its default).
"""

from __future__ import annotations

import sys
from typing import Any

_TIERS = ("writer", "shard")
_TLS_NAME = "localhost"


def is_serving(address: str, credentials: Any | None, timeout: float = 4.0) -> bool:
    """Whether the gRPC server at `address` reports SERVING for the whole server ("")."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    if credentials is None:
        channel = grpc.insecure_channel(address)
    else:
        channel = grpc.secure_channel(
            address, credentials, options=[("grpc.ssl_target_name_override", _TLS_NAME)])
    with channel:
        try:
            answer = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=timeout)
        except grpc.RpcError as error:
            print(f"unhealthy: {error.code().name}", file=sys.stderr)
            return False
    return bool(answer.status == health_pb2.HealthCheckResponse.SERVING)


def main(arguments: list[str]) -> int:
    if len(arguments) != 1 or arguments[0] not in _TIERS:
        print("usage: python -m service.grpc_healthcheck writer|shard", file=sys.stderr)
        return 2
    from service.errors import ServiceError
    from service.settings import Settings
    from service.shard.tls import channel_credentials

    settings = Settings()
    listen = settings.writer_listen if arguments[0] == "writer" else settings.shard_listen
    port = listen.rpartition(":")[2]
    try:
        credentials = channel_credentials(settings)
    except ServiceError as error:
        print(f"unhealthy: {error.detail}", file=sys.stderr)
        return 1
    return 0 if is_serving(f"127.0.0.1:{port}", credentials) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
