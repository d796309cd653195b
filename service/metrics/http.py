"""Request counts and latencies by route template, and the /metrics exposition."""

from __future__ import annotations

import time
from collections.abc import Iterator

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import Metric
from prometheus_client.registry import Collector, CollectorRegistry
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.metrics.registry import LATENCY, REGISTRY, REQUESTS
from service.metrics.runtime_collector import RuntimeCollector
from service.metrics.writer import WriterCollector
from service.runtime import Runtime

__all__ = ["CONTENT_TYPE_LATEST", "RequestMetrics", "exporter_registry", "exposition",
           "runtime_registry"]


class RequestMetrics:
    """Outermost middleware: counts every answered request and times it.

    The label is the matched route's template (`/v1/datasets/{reference_number}`), never the
    raw path, and `unmatched` for paths no route takes, so labels stay few and hold no data.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_counted(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_counted)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            method = scope["method"]
            REQUESTS.labels(route, method, str(status)).inc()
            LATENCY.labels(route, method).observe(time.perf_counter() - started)


def runtime_registry(runtime: Runtime) -> CollectorRegistry:
    """A registry of the gauges read from `runtime` (one per application); the writer's too in
    the process that writes."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RuntimeCollector(runtime))
    if runtime.writes:
        registry.register(WriterCollector(runtime))
    return registry


class _Exposition(Collector):
    def __init__(self, runtime_gauges: CollectorRegistry) -> None:
        self._runtime_gauges = runtime_gauges

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()
        yield from self._runtime_gauges.collect()


def exporter_registry(runtime: Runtime) -> CollectorRegistry:
    """What /metrics serves, as one registry for an exporter of its own (`abis writer`)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Exposition(runtime_registry(runtime)))
    return registry


def exposition(runtime_gauges: CollectorRegistry) -> bytes:
    """The text exposition: the process-wide metrics, then the runtime's gauges."""
    return generate_latest(REGISTRY) + generate_latest(runtime_gauges)
