"""`abis shard` (one partition of the gallery over gRPC) and `abis dev-certs` (a local CA)."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Annotated

import typer

from service.cli.common import fail, open_sessions
from service.errors import ServiceError
from service.settings import Settings


def shard(
    partition: Annotated[int, typer.Option(min=0, help="This shard's partition: dataset_id mod P")],
    partitions: Annotated[int, typer.Option(min=1, help="P, the number of partitions")],
    listen: Annotated[str | None, typer.Option(
        help="host:port (default ABIS_SHARD_LISTEN); mutual TLS required off loopback")] = None,
    metrics_listen: Annotated[str | None, typer.Option(
        help="host:port of the Prometheus exporter (default ABIS_METRICS_LISTEN; unset: "
             "none)")] = None,
    snapshot_file: Annotated[Path | None, typer.Option(
        help="This replica's encrypted partition snapshot (default: in ABIS_DATA_DIR, named "
             "after the partition and the address)")] = None,
) -> None:
    """Serve one partition of the gallery to the writer, with the service's key and database."""
    from service.crypto import load_master_key
    from service.gallery.startup import store_gallery
    from service.logging_setup import configure_logging
    from service.shard.partition import Partition
    from service.shard.server import serve
    from service.shard.tls import require_tls_off_loopback, server_credentials

    settings = Settings()
    configure_logging(settings.log_level)
    if partition >= partitions:
        fail(f"--partition must be below --partitions ({partitions})")
    address = listen or settings.shard_listen
    try:
        credentials = server_credentials(settings)
        require_tls_off_loopback(address, credentials is not None)
        master = load_master_key(settings)
    except ServiceError as error:
        fail(error.detail)
    sessions = open_sessions(settings)
    snapshot = None
    if settings.snapshot:
        snapshot = snapshot_file or settings.data_dir / (
            f"shard-{partition}-of-{partitions}-{address.replace(':', '_')}.snapshot")
    part = Partition(partition, partitions, store_gallery(settings, sessions, master),
                     sessions, master, snapshot=snapshot,
                     snapshot_every=settings.snapshot_every,
                     snapshot_seconds=settings.snapshot_seconds,
                     inline_catch_up=settings.shard_inline_catch_up,
                     replica=f"{partition}/{partitions}@{socket.gethostname()}:"
                             f"{address.rpartition(':')[2]}",
                     report_seconds=settings.index_log_report_seconds)
    serve(part, address, credentials,
          metrics_listen=metrics_listen or settings.metrics_listen)


def dev_certs(
    out: Annotated[Path, typer.Option(help="Directory for ca.pem, shard.*, writer.*, api.*")],
    host: Annotated[list[str] | None, typer.Option(
        help="A name or IP address the shards are reached at (repeatable)")] = None,
) -> None:
    """Make a development CA and certificates for mutual TLS between API, writer and shards."""
    from service.shard.tls import make_dev_certificates

    for path in make_dev_certificates(out, host or ["127.0.0.1", "localhost"]):
        typer.echo(str(path))
