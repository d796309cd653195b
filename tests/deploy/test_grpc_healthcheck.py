"""The probe compose and Kubernetes run against `abis writer` and `abis shard`: a real gRPC
server with the standard health service, over mutual TLS with `abis dev-certs` certificates."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from service.grpc_healthcheck import is_serving
from service.settings import Settings
from service.shard.tls import make_dev_certificates, server_credentials
from tests.service_process import free_port


@pytest.fixture
def certificates(tmp_path: Path) -> dict[str, str]:
    make_dev_certificates(tmp_path, ["127.0.0.1", "localhost"])
    return {"ABIS_INTERNAL_TLS_CA_FILE": str(tmp_path / "ca.pem"),
            "ABIS_INTERNAL_TLS_CERT_FILE": str(tmp_path / "shard.pem"),
            "ABIS_INTERNAL_TLS_KEY_FILE": str(tmp_path / "shard.key")}


@pytest.fixture
def server(certificates: dict[str, str]) -> Iterator[tuple[int, health.HealthServicer]]:
    settings = Settings(internal_tls_ca_file=Path(certificates["ABIS_INTERNAL_TLS_CA_FILE"]),
                        internal_tls_cert_file=Path(certificates["ABIS_INTERNAL_TLS_CERT_FILE"]),
                        internal_tls_key_file=Path(certificates["ABIS_INTERNAL_TLS_KEY_FILE"]))
    port = free_port()
    grpc_server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, grpc_server)
    servicer.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
    grpc_server.add_secure_port(f"127.0.0.1:{port}", server_credentials(settings))
    grpc_server.start()
    try:
        yield port, servicer
    finally:
        grpc_server.stop(grace=None).wait()


def _probe(tier: str, port: int, environment: dict[str, str]) -> int:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ABIS_")}
    env |= environment | {f"ABIS_{tier.upper()}_LISTEN": f"0.0.0.0:{port}"}
    done = subprocess.run([sys.executable, "-m", "service.grpc_healthcheck", tier], env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    return done.returncode


def test_the_probe_follows_the_health_service_over_mutual_tls(
        server: tuple[int, health.HealthServicer], certificates: dict[str, str]) -> None:
    port, servicer = server
    assert _probe("shard", port, certificates) == 1  # loading: NOT_SERVING
    servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    assert _probe("shard", port, certificates) == 0
    assert _probe("writer", port, certificates) == 0
    assert _probe("shard", port, {}) == 1  # no client certificate: the handshake fails
    servicer.enter_graceful_shutdown()
    assert _probe("shard", port, certificates) == 1


def test_the_probe_fails_on_a_closed_port_and_refuses_unknown_tiers() -> None:
    assert not is_serving(f"127.0.0.1:{free_port()}", None, timeout=1.0)
    assert _probe("api", free_port(), {}) == 2
