"""A Prometheus exporter on a port of its own, for the processes that serve gRPC rather than
HTTP (`abis shard`, `abis writer`): plain HTTP /metrics on ABIS_METRICS_LISTEN (or the
command's --metrics-listen). Keep it on loopback or a pod-internal address; the numbers say
nothing about persons, but they say how big the gallery is."""

from __future__ import annotations

from wsgiref.simple_server import WSGIServer

from prometheus_client import start_http_server
from prometheus_client.registry import Collector

from service.errors import ConfigurationError


def start_exporter(listen: str, registry: Collector) -> WSGIServer:
    """Serve `registry` at http://listen/metrics in a daemon thread; the bound server (its
    port is the real one when `listen` asks for port 0)."""
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit():
        raise ConfigurationError(f"metrics address {listen!r} is not host:port")
    server, _ = start_http_server(int(port), addr=host.strip("[]"), registry=registry)
    return server
