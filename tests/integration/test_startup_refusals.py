"""A service that must not run stops at once, with an error that names the cause."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from service.audit.keys import generate_audit_key_file
from service.crypto.master_key import generate_key_file
from tests.service_process import cli, free_port, service_env


def _serve(env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = dict(env, ABIS_PORT=str(free_port()), ABIS_HOST="127.0.0.1")
    return subprocess.run([sys.executable, "-m", "service", "serve"], env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)


def _keys(data_dir: Path) -> None:
    generate_key_file(data_dir / "master.key")
    generate_audit_key_file(data_dir / "audit.key")


def test_a_synthetic_deployment_is_refused_in_production_mode(
    database_url: str, tmp_path: Path
) -> None:
    _keys(tmp_path)
    env = service_env(tmp_path, database_url, ABIS_SYNTHETIC_DEPLOYMENT="true")
    assert cli(env, "db", "upgrade").returncode == 0
    done = _serve(env)
    assert done.returncode != 0
    assert "ABIS_SYNTHETIC_DEPLOYMENT" in done.stderr and "production mode" in done.stderr
    assert "Traceback" not in done.stderr
