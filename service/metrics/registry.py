"""The service's metrics, in a registry of its own (so tests and tools can read exactly these)."""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)

REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)  # memory and CPU of the process: sizing needs them
PlatformCollector(registry=REGISTRY)

REQUESTS = Counter(
    "abis_http_requests", "HTTP requests answered, by route template, method and status.",
    ["route", "method", "status"], registry=REGISTRY,
)
LATENCY = Histogram(
    "abis_http_request_duration_seconds",
    "Time from a request's arrival to its answer, audit write included.",
    ["route", "method"], registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
IDENTIFICATIONS = Counter(
    "abis_identifications", "Transmissions searched against the gallery.", registry=REGISTRY,
)
BATCH_SIZE = Histogram(
    "abis_writer_batch_size", "Work items per writer batch (one transaction each).",
    registry=REGISTRY, buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
)
BATCH_SECONDS = Histogram(
    "abis_writer_batch_duration_seconds",
    "Time for the writer to process one batch: searches, the commit (datasets, hits, audit and "
    "index log in one transaction) and the push of its changes to the gallery or shards. Its "
    "count is the number of batches.",
    registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
AUTH_FAILURES = Counter(
    "abis_authentication_failures",
    "Refused authentications, by the key's Member State and access point ('unknown' when the "
    "presented key names no key) and reason (key, client-certificate).",
    ["member_state", "access_point", "reason"], registry=REGISTRY,
)
