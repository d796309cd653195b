"""Mutual TLS between the writer and the shards, and a development CA.

Outside loopback every writer-shard channel is mutually authenticated: each side presents a
certificate signed by the CA in ABIS_INTERNAL_TLS_CA_FILE and checks the other's
(ABIS_INTERNAL_TLS_CERT_FILE, ABIS_INTERNAL_TLS_KEY_FILE). Templates travel on these channels
only. On 127.0.0.1 (dev, tests) TLS is optional. `abis dev-certs` makes a local CA and one
certificate each for the shards, the writer and the API workers (development only: the CA key
is not kept).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from pathlib import Path
from typing import Any

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from service.errors import ConfigurationError
from service.settings import Settings


def is_loopback(address: str) -> bool:
    host = address.rpartition(":")[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def require_tls_off_loopback(address: str, tls: bool) -> None:
    if not tls and not is_loopback(address):
        raise ConfigurationError(
            f"{address} is not a loopback address: writer-shard traffic needs mutual TLS "
            "(ABIS_INTERNAL_TLS_CA_FILE, ABIS_INTERNAL_TLS_CERT_FILE, "
            "ABIS_INTERNAL_TLS_KEY_FILE)")


# The internal channels' former names (too close to HTTPS's ABIS_TLS_CERT/KEY): refused, not
# ignored.
_RENAMED = {"ABIS_TLS_CA_FILE": "ABIS_INTERNAL_TLS_CA_FILE",
            "ABIS_TLS_CERT_FILE": "ABIS_INTERNAL_TLS_CERT_FILE",
            "ABIS_TLS_KEY_FILE": "ABIS_INTERNAL_TLS_KEY_FILE"}


def _files(settings: Settings) -> tuple[bytes, bytes, bytes] | None:
    renamed = sorted(name for name in _RENAMED if name in os.environ)
    if renamed:  # silently ignored, they would leave the channels without TLS
        raise ConfigurationError(f"{', '.join(renamed)}: renamed to "
                                 f"{', '.join(_RENAMED[name] for name in renamed)}")
    files = (settings.internal_tls_ca_file, settings.internal_tls_cert_file,
             settings.internal_tls_key_file)
    if not any(files):
        return None
    if not all(files):
        raise ConfigurationError("mutual TLS needs ABIS_INTERNAL_TLS_CA_FILE, "
                                 "ABIS_INTERNAL_TLS_CERT_FILE and ABIS_INTERNAL_TLS_KEY_FILE "
                                 "together")
    try:
        return tuple(Path(str(path)).read_bytes() for path in files)  # type: ignore[return-value]
    except OSError as error:
        raise ConfigurationError(f"cannot read a TLS file: {error.strerror}") from None


def channel_credentials(settings: Settings) -> Any | None:
    files = _files(settings)
    if files is None:
        return None
    ca, cert, key = files
    return grpc.ssl_channel_credentials(root_certificates=ca, private_key=key,
                                        certificate_chain=cert)


def server_credentials(settings: Settings) -> Any | None:
    files = _files(settings)
    if files is None:
        return None
    ca, cert, key = files
    return grpc.ssl_server_credentials([(key, cert)], root_certificates=ca,
                                       require_client_auth=True)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write(path: Path, data: bytes, private: bool) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def make_dev_certificates(directory: Path, hosts: list[str], days: int = 30) -> list[Path]:
    """ca.pem, and shard.pem/.key, writer.pem/.key and api.pem/.key signed by it, valid for
    `hosts` (DNS names or IP addresses) as server and as client. Returns the files written."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name("abis dev CA"))
          .issuer_name(_name("abis dev CA")).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(minutes=5))
          .not_valid_after(now + dt.timedelta(days=days))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .sign(ca_key, hashes.SHA256()))
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    written = [directory / "ca.pem"]
    _write(written[0], ca.public_bytes(serialization.Encoding.PEM), private=False)
    for role in ("shard", "writer", "api"):  # api: the API workers' client certificate
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (x509.CertificateBuilder().subject_name(_name(f"abis {role}"))
                .issuer_name(ca.subject).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(minutes=5))
                .not_valid_after(now + dt.timedelta(days=days))
                .add_extension(x509.SubjectAlternativeName(names), critical=False)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                                      ExtendedKeyUsageOID.CLIENT_AUTH]),
                               critical=False)
                .sign(ca_key, hashes.SHA256()))
        _write(directory / f"{role}.pem", cert.public_bytes(serialization.Encoding.PEM), False)
        _write(directory / f"{role}.key", key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()), True)
        written += [directory / f"{role}.pem", directory / f"{role}.key"]
    return written
