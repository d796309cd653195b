"""A real abis server in a subprocess on a free loopback port, and keys made with the real CLI."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def service_env(data_dir: Path, database_url: str, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ABIS_")}
    env.update(
        ABIS_DATA_DIR=str(data_dir),
        ABIS_DATABASE_URL=database_url,
        ABIS_MASTER_KEY_FILE=str(data_dir / "master.key"),
        ABIS_AUDIT_KEY_FILE=str(data_dir / "audit.key"),
        ABIS_LOG_LEVEL="WARNING",
    )
    env.update(extra)
    return env


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@dataclass
class RunningService:
    env: dict[str, str]
    port: int
    process: subprocess.Popen[bytes] | None = None
    keys: dict[tuple[str, str], str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> None:
        migrated = cli(self.env, "db", "upgrade")
        assert migrated.returncode == 0, migrated.stderr
        env = dict(self.env, ABIS_PORT=str(self.port), ABIS_HOST="127.0.0.1")
        # The log goes to a file: an undrained pipe fills up and blocks the server for good.
        self.log_path = Path(self.env["ABIS_DATA_DIR"]) / f"serve-{self.port}.log"
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "service", "serve"], env=env, stderr=log
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                stderr = self.log_path.read_text(errors="replace")[-5000:]
                raise RuntimeError(f"abis serve exited {self.process.returncode}: {stderr}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise RuntimeError("abis serve did not become ready")

    def stop(self, kill: bool = False) -> None:
        if self.process is None:
            return
        if kill:
            self.process.kill()
        else:
            self.process.terminate()
        self.process.wait(timeout=30)
        self.process = None

    def key(self, member_state: str, role: str = "officer") -> str:
        """A key for (member_state, role), created once with `abis keys create`."""
        if (member_state, role) not in self.keys:
            done = cli(self.env, "keys", "create", "--member-state", member_state, "--role", role)
            assert done.returncode == 0, done.stderr
            self.keys[(member_state, role)] = done.stdout.strip()
        return self.keys[(member_state, role)]

    def client(self, member_state: str, role: str = "officer") -> httpx.Client:
        return httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {self.key(member_state, role)}"},
            timeout=30,
        )
