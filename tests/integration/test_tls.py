"""HTTPS and client certificates bound to access points, on a real server over 127.0.0.1."""

from __future__ import annotations

import ssl
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from service.tls.trial_pki import Authority, Issued, authority
from tests.service_process import RunningService, cli, free_port, service_env


@dataclass
class Pki:
    ca: Authority
    italy: Issued  # the Italian access point's client certificate
    france: Issued  # another access point's, from the same CA
    rogue: Issued  # signed by a CA the service does not trust
    rogue_ca: Authority


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    directory = tmp_path_factory.mktemp("pki")
    ca, rogue_ca = authority(directory, "abis-test-ca"), authority(directory, "rogue-ca")
    return Pki(ca, ca.issue(directory, "it-access-point"), ca.issue(directory, "fr-access-point"),
               rogue_ca.issue(directory, "rogue-client"), rogue_ca)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="module")
def database_url(data_dir: Path) -> str:
    """SQLite only: TLS lives in the server, and the binding table's migration is tested on
    both backends with the others."""
    return f"sqlite:///{data_dir / 'abis.db'}"


@pytest.fixture(scope="module")
def mtls_service(database_url: str, data_dir: Path, pki: Pki) -> Iterator[RunningService]:
    from service.audit.keys import generate_audit_key_file
    from service.crypto.master_key import generate_key_file

    server = pki.ca.issue(data_dir, "abis-server", server=True)
    generate_key_file(data_dir / "master.key")
    generate_audit_key_file(data_dir / "audit.key")
    env = service_env(data_dir, database_url, ABIS_TLS_CERT=str(server.cert),
                      ABIS_TLS_KEY=str(server.key), ABIS_TLS_CLIENT_CA=str(pki.ca.cert))
    # The readiness poll presents an unbound certificate: /readyz needs no key.
    running = RunningService(env, free_port(), tls=pki.ca.client_context(pki.france))
    running.start()
    try:
        yield running
    finally:
        running.stop()


def _get(service: RunningService, context: ssl.SSLContext, path: str, key: str | None = None
         ) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.get(f"{service.url}{path}", verify=context, headers=headers, timeout=10)


def test_https_only(mtls_service: RunningService, pki: Pki) -> None:
    assert _get(mtls_service, pki.ca.client_context(pki.italy), "/healthz").status_code == 200
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{mtls_service.port}/healthz", timeout=5)


@pytest.mark.parametrize("who", ["none", "rogue"])
def test_a_client_without_a_trusted_certificate_is_refused_at_the_handshake(
    mtls_service: RunningService, pki: Pki, who: str
) -> None:
    context = pki.ca.client_context(None if who == "none" else pki.rogue)
    with pytest.raises(httpx.TransportError):
        _get(mtls_service, context, "/healthz")


def test_a_bound_key_works_only_with_its_access_points_certificate(
    mtls_service: RunningService, pki: Pki
) -> None:
    italy_key = mtls_service.key("IT")
    key_id = italy_key.split("_")[1]
    bound = cli(mtls_service.env, "keys", "bind-cert", key_id, "--cert", str(pki.italy.cert))
    assert bound.returncode == 0, bound.stderr
    assert "CN=it-access-point" in bound.stderr

    path = "/v1/notifications"
    assert _get(mtls_service, pki.ca.client_context(pki.italy), path, italy_key).status_code == 200

    refused = _get(mtls_service, pki.ca.client_context(pki.france), path, italy_key)
    assert refused.status_code == 401
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["type"] == "/problems/unauthenticated"

    # The refusal is in the audit log (who tried, and why) ...
    edps = mtls_service.key("EU", "supervisor")
    events = _get(mtls_service, pki.ca.client_context(pki.france),
                  "/v1/audit/events?limit=1000", edps).json()["events"]
    refusals = [view["event"] for view in events if view["event"]["presented_key_id"] == key_id
                and view["event"]["status"] == 401]
    assert refusals and refusals[-1]["outcome"] == {"refused": "client-certificate"}

    # ... and counted for the access point, without personal data.
    operator = mtls_service.key("EU", "operator")
    metrics = _get(mtls_service, pki.ca.client_context(pki.france), "/metrics", operator).text
    assert ('abis_authentication_failures_total{access_point="IT-officer",member_state="IT",'
            'reason="client-certificate"} 1.0') in metrics

    # (The supervisor's unbound key worked above with a certificate of another access point.)
    # Unbinding frees the key.
    assert cli(mtls_service.env, "keys", "unbind-cert", key_id).returncode == 0


def test_binding_an_unknown_key_or_a_non_certificate_is_a_clear_error(
    mtls_service: RunningService, pki: Pki, tmp_path: Path
) -> None:
    unknown = cli(mtls_service.env, "keys", "bind-cert", "000000000000", "--cert",
                  str(pki.italy.cert))
    assert unknown.returncode == 2 and "no key" in unknown.stderr
    garbage = tmp_path / "not.pem"
    garbage.write_text("hello")
    key_id = mtls_service.key("IT").split("_")[1]
    refused = cli(mtls_service.env, "keys", "bind-cert", key_id, "--cert", str(garbage))
    assert refused.returncode == 2 and "not a PEM certificate" in refused.stderr


def test_half_a_tls_configuration_stops_the_server_before_it_listens(
    data_dir: Path, database_url: str, pki: Pki
) -> None:
    env = service_env(data_dir, database_url, ABIS_TLS_CERT=str(pki.ca.cert),
                      ABIS_PORT=str(free_port()))
    done = cli(env, "serve")
    assert done.returncode == 2
    assert "ABIS_TLS_CERT and ABIS_TLS_KEY go together" in done.stderr


def test_the_container_health_check_presents_its_certificate_under_mutual_tls(
    mtls_service: RunningService, pki: Pki
) -> None:
    env = dict(mtls_service.env, ABIS_PORT=str(mtls_service.port))
    without = subprocess.run([sys.executable, "-m", "service.healthcheck"], env=env,
                             capture_output=True, text=True, timeout=30, check=False)
    assert without.returncode == 1 and "unhealthy" in without.stderr
    env |= {"ABIS_HEALTHCHECK_CERT": str(pki.france.cert),
            "ABIS_HEALTHCHECK_KEY": str(pki.france.key)}
    for path in ("/healthz", "/readyz"):
        healthy = subprocess.run([sys.executable, "-m", "service.healthcheck", path], env=env,
                                 capture_output=True, text=True, timeout=30, check=False)
        assert healthy.returncode == 0, healthy.stderr
