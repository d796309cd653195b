"""A small certificate authority for tests and trial deployments (never for production: use the
agency's PKI). `python -m service.tls.trial_pki DIR` writes every secret deploy/compose.yaml
needs: keys, a CA, the service's and the health check's certificates, the database password."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class Issued:
    cert: Path
    key: Path


@dataclass(frozen=True)
class Authority:
    name: str
    certificate: x509.Certificate
    private_key: ec.EllipticCurvePrivateKey
    cert: Path

    def issue(self, directory: Path, common_name: str, *, server: bool = False,
              hosts: tuple[str, ...] = ("127.0.0.1",)) -> Issued:
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        )
        if server:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([_alt_name(host) for host in hosts]), critical=False
            )
        certificate = builder.sign(self.private_key, hashes.SHA256())
        return _write(directory, common_name, certificate, key)

    def client_context(self, client: Issued | None = None) -> ssl.SSLContext:
        """What a client of a server this CA signed uses (optionally presenting `client`)."""
        context = ssl.create_default_context(cafile=str(self.cert))
        if client is not None:
            context.load_cert_chain(str(client.cert), str(client.key))
        return context


def _alt_name(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def authority(directory: Path, name: str) -> Authority:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .sign(key, hashes.SHA256())
    )
    issued = _write(directory, name, certificate, key)
    return Authority(name, certificate, key, issued.cert)


def _write(directory: Path, name: str, certificate: x509.Certificate,
           key: ec.EllipticCurvePrivateKey) -> Issued:
    cert_path, key_path = directory / f"{name}.crt", directory / f"{name}.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return Issued(cert_path, key_path)


def trial_secrets(directory: Path, hosts: tuple[str, ...]) -> None:
    """Every secret of deploy/compose.yaml, new, in `directory` (files mode 0600)."""
    import base64
    import os
    import secrets

    from service.audit.keys import generate_audit_key_file
    from service.crypto.master_key import generate_key_file

    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    generate_key_file(directory / "master.key")
    generate_audit_key_file(directory / "audit.key")
    ca = authority(directory, "ca")
    ca.issue(directory, "server", server=True, hosts=hosts)
    ca.issue(directory, "monitor")  # the container's health check, under mutual TLS
    ca.issue(directory, "prometheus")  # Prometheus's client certificate, likewise
    password = base64.urlsafe_b64encode(os.urandom(24)).decode().rstrip("=")
    (directory / "postgres-password").write_text(password + "\n")
    (directory / "database-url").write_text(
        f"postgresql+psycopg://abis:{password}@postgres:5432/abis\n")
    (directory / "grafana-admin-password").write_text(secrets.token_urlsafe(18) + "\n")
    for path in directory.iterdir():
        path.chmod(0o600)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("directory", type=Path)
    parser.add_argument("--hosts", default="localhost,127.0.0.1,writer",
                        help="names and addresses in the service's certificate")
    arguments = parser.parse_args()
    trial_secrets(arguments.directory, tuple(arguments.hosts.split(",")))
    print(f"wrote trial secrets to {arguments.directory}; the CA key is there too: keep it "
          "offline or delete it")
