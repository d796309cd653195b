"""`abis api` terminates HTTPS itself with ABIS_TLS_CERT/ABIS_TLS_KEY, as `abis serve` does
(the compose file and the Kubernetes component probe it over HTTPS)."""

from __future__ import annotations

import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx

from service.tls.trial_pki import authority
from tests.service_process import cli, free_port, service_env


def test_abis_api_serves_https_with_the_tls_settings(tmp_path: Path) -> None:
    from service.audit.keys import generate_audit_key_file
    from service.crypto.master_key import generate_key_file

    generate_key_file(tmp_path / "master.key")
    generate_audit_key_file(tmp_path / "audit.key")
    ca = authority(tmp_path, "ca")
    server = ca.issue(tmp_path, "server", server=True, hosts=("127.0.0.1",))
    port = free_port()
    env = service_env(tmp_path, f"sqlite:///{tmp_path / 'abis.db'}",
                      ABIS_HOST="127.0.0.1", ABIS_PORT=str(port),
                      ABIS_WRITER=f"127.0.0.1:{free_port()}",  # no writer: /healthz needs none
                      ABIS_TLS_CERT=str(server.cert), ABIS_TLS_KEY=str(server.key))
    assert cli(env, "db", "upgrade").returncode == 0
    process = subprocess.Popen([sys.executable, "-m", "service", "api"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    verify = ssl.create_default_context(cafile=str(tmp_path / "ca.crt"))
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.stderr.read() if process.stderr else b""
            try:
                answer = httpx.get(f"https://127.0.0.1:{port}/healthz", verify=verify)
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline, "abis api did not open its port"
                time.sleep(0.2)
        assert answer.status_code == 200
        try:
            plain = httpx.get(f"http://127.0.0.1:{port}/healthz").status_code
        except httpx.HTTPError:
            plain = 0  # the TLS server drops a plain-text request
        assert plain != 200
    finally:
        process.terminate()
        process.wait(timeout=30)
