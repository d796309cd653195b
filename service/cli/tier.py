"""`abis writer` (the ordered writer over gRPC), `abis api` (stateless HTTP workers in front of
it) and `abis serve --workers N` (both on one machine behind one port, for users without an
orchestrator: the writer in a child process it restarts, N uvicorn workers sharing the port)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from typing import Annotated

import structlog
import typer

from service.cli.common import fail
from service.errors import ServiceError
from service.settings import Settings

_log = structlog.get_logger(__name__)
_RESTART_PAUSE_SECONDS = 1.0


def writer(
    listen: Annotated[str | None, typer.Option(
        help="host:port (default ABIS_WRITER_LISTEN); mutual TLS required off loopback")] = None,
    metrics_listen: Annotated[str | None, typer.Option(
        help="host:port of the Prometheus exporter (default ABIS_METRICS_LISTEN; unset: "
             "none)")] = None,
) -> None:
    """Run the ordered writer (gallery, queue, commits) for `abis api` workers."""
    from service.logging_setup import configure_logging
    from service.runtime import Runtime
    from service.shard.tls import require_tls_off_loopback, server_credentials
    from service.writer.server import serve

    settings = Settings()
    configure_logging(settings.log_level)
    address = listen or settings.writer_listen
    try:
        credentials = server_credentials(settings)
        require_tls_off_loopback(address, credentials is not None)
        runtime = Runtime.build(settings)
    except ServiceError as error:
        fail(error.detail)
    serve(runtime, address, credentials,
          metrics_listen=metrics_listen or settings.metrics_listen)


def _run_api(settings: Settings, workers: int) -> None:
    import uvicorn

    from service.tls.server import uvicorn_tls_options

    try:
        tls = uvicorn_tls_options(settings)
    except ServiceError as error:
        fail(error.detail)
    uvicorn.run(
        "service.api.worker:create_api_worker_app",
        factory=True,
        workers=workers,
        host=settings.host,
        port=settings.port,
        access_log=False,  # our RequestContext logs without client addresses
        server_header=False,
        log_config=None,
        **tls,  # HTTPS (and client certificates) when ABIS_TLS_CERT/KEY are set, as `abis serve`
    )


def api(
    workers: Annotated[int, typer.Option(min=1, help="HTTP worker processes on the port")] = 1,
) -> None:
    """Run stateless HTTP workers that hand their writes to the writer at ABIS_WRITER."""
    settings = Settings()
    if settings.writer is None:
        fail("abis api needs ABIS_WRITER, the address of `abis writer`")
    _run_api(settings, workers)


class _WriterChild:
    """`abis writer` as a child process, started again whenever it dies (kill -9 included):
    its lease is released by the database when its connection drops, so the new one takes it."""

    def __init__(self, address: str) -> None:
        self._command = [sys.executable, "-m", "service", "writer", "--listen", address]
        self._process: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._watcher = threading.Thread(target=self._watch, name="abis-writer-watch",
                                         daemon=True)

    def start(self) -> None:
        self._process = subprocess.Popen(self._command)

    def watch(self) -> None:
        self._watcher.start()

    def wait_listening(self, address: str, timeout: float = 300.0) -> None:
        """Until the writer answers on its port (its store checked, migrated in dev mode)."""
        import grpc
        from grpc_health.v1 import health_pb2, health_pb2_grpc

        deadline = time.monotonic() + timeout
        # gRPC's reconnect backoff grows to 120 s while the port is still closed: on a loaded
        # machine that kept `serve --workers` unready for over a minute after the writer
        # listened. Retry at most a second apart instead.
        options = [("grpc.initial_reconnect_backoff_ms", 100),
                   ("grpc.min_reconnect_backoff_ms", 100),
                   ("grpc.max_reconnect_backoff_ms", 1000)]
        with grpc.insecure_channel(address, options=options) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            while time.monotonic() < deadline:
                if self._process is not None and self._process.poll() is not None:
                    fail(f"abis writer exited with {self._process.returncode}")
                try:
                    stub.Check(health_pb2.HealthCheckRequest(), timeout=1.0)
                    return
                except grpc.RpcError:
                    time.sleep(0.1)
        fail("abis writer did not open its port")

    def _watch(self) -> None:
        while not self._stopping.is_set():
            assert self._process is not None
            code = self._process.wait()
            if self._stopping.is_set():
                return
            _log.error("writer_exited", code=code)
            time.sleep(_RESTART_PAUSE_SECONDS)
            if not self._stopping.is_set():
                self._process = subprocess.Popen(self._command)

    def stop(self) -> None:
        self._stopping.set()
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()  # the writer finishes its queue, then exits
            self._process.wait(timeout=60)


def serve_workers(workers: int) -> None:
    """The writer and `workers` API workers behind ABIS_HOST:ABIS_PORT."""
    import os

    from service.shard.tls import is_loopback

    settings = Settings()
    address = settings.writer_listen
    if not is_loopback(address):
        fail("abis serve --workers keeps its writer on loopback (ABIS_WRITER_LISTEN)")
    child = _WriterChild(address)
    child.start()
    try:
        child.wait_listening(address)
    except typer.Exit:
        child.stop()
        raise
    child.watch()
    os.environ["ABIS_WRITER"] = address  # the API workers (spawned) read their settings
    try:
        _run_api(Settings(), workers)
    finally:
        child.stop()
