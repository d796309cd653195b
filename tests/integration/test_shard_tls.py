"""Writer and shard authenticate each other with certificates from `abis dev-certs`: a client
without one is refused, and a shard off loopback without TLS refuses to start."""

from __future__ import annotations

import threading
from pathlib import Path

import grpc
import pytest

import matcher
from service.errors import ConfigurationError
from service.runtime import make_gallery
from service.settings import Settings
from service.shard.partition import Partition
from service.shard.protocol import shard_pb2 as pb
from service.shard.remote import RemoteGallery
from service.shard.server import SERVICE, serve
from service.shard.tls import (
    make_dev_certificates,
    require_tls_off_loopback,
    server_credentials,
)
from service.store.database import make_engine, make_sessions
from service.store.schema import upgrade
from tests.service_process import free_port
from tests.unit.test_batch_processor import MASTER, _job


def _tls(directory: Path, role: str) -> Settings:
    return Settings(internal_tls_ca_file=directory / "ca.pem",
                    internal_tls_cert_file=directory / f"{role}.pem",
                    internal_tls_key_file=directory / f"{role}.key")


def test_mutual_tls_between_writer_and_shard(tmp_path: Path) -> None:
    certs = tmp_path / "certs"
    make_dev_certificates(certs, ["127.0.0.1"])
    assert (certs / "writer.key").stat().st_mode & 0o077 == 0
    engine = make_engine(f"sqlite:///{tmp_path / 'db'}")
    upgrade(engine)
    sessions = make_sessions(engine)
    partition = Partition(0, 1, make_gallery(Settings()), sessions, MASTER)
    address = f"127.0.0.1:{free_port()}"
    stop = threading.Event()
    thread = threading.Thread(target=serve, daemon=True, args=(
        partition, address, server_credentials(_tls(certs, "shard")), stop))
    thread.start()
    try:
        assert partition.ready.wait(30)
        writer = _tls(certs, "writer").model_copy(update={"shards": address})
        remote = RemoteGallery.connect(writer, epoch=1)
        try:
            probe = _job("IT", 2, 1, 1).templates
            searched = remote.search([probe], [matcher.Eligibility(frozenset({1}))])
            assert searched.outcomes[0].hits == ()
            assert searched.coverage[0].replica == address
        finally:
            remote.close()
        with grpc.insecure_channel(address) as plain:  # no certificate: no answer
            call = plain.unary_unary(f"/{SERVICE}/Search",
                                     request_serializer=pb.SearchRequest.SerializeToString,
                                     response_deserializer=pb.SearchReply.FromString)
            with pytest.raises(grpc.RpcError):
                call(pb.SearchRequest(epoch=1), timeout=5)
    finally:
        stop.set()
        thread.join(30)
        engine.dispose()


def test_plain_traffic_is_refused_off_loopback() -> None:
    require_tls_off_loopback("127.0.0.1:7001", tls=False)
    require_tls_off_loopback("localhost:7001", tls=False)
    require_tls_off_loopback("10.0.0.5:7001", tls=True)
    with pytest.raises(ConfigurationError):
        require_tls_off_loopback("10.0.0.5:7001", tls=False)
    with pytest.raises(ConfigurationError):
        require_tls_off_loopback("shard-0.abis:7001", tls=False)
