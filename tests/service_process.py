"""A real abis server in a subprocess on a free loopback port, and keys made with the real CLI."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import ssl
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
    """`abis ARGS` (the console script's app: the service's commands and the tooling's)."""
    return subprocess.run(
        [sys.executable, "-m", "tooling", *args],
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
    # HTTPS (ABIS_TLS_* in env): how the test's clients, and the readiness poll, connect
    tls: ssl.SSLContext | None = None
    workers: int = 0  # `abis serve --workers N`: the writer and N API workers on one port

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def start(self, timeout: float = 120.0) -> None:
        migrated = cli(self.env, "db", "upgrade")
        assert migrated.returncode == 0, migrated.stderr
        env = dict(self.env, ABIS_PORT=str(self.port), ABIS_HOST="127.0.0.1")
        command = [sys.executable, "-m", "service", "serve"]
        if self.workers:
            env.setdefault("ABIS_WRITER_LISTEN", f"127.0.0.1:{free_port()}")
            command += ["--workers", str(self.workers)]
        # The log goes to a file: an undrained pipe fills up and blocks the server for good.
        self.log_path = Path(self.env["ABIS_DATA_DIR"]) / f"serve-{self.port}.log"
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(command, env=env, stderr=log)
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.stop(kill=True)  # a server that never became ready is not left running
            raise

    def _wait_ready(self, timeout: float) -> None:
        assert self.process is not None and self.log_path is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                stderr = self.log_path.read_text(errors="replace")[-5000:]
                raise RuntimeError(f"abis serve exited {self.process.returncode}: {stderr}")
            try:
                ready = httpx.get(f"{self.url}/readyz", timeout=1, verify=self.tls or True)
                if ready.status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise RuntimeError("abis serve did not become ready")

    def stop(self, kill: bool = False) -> None:
        if self.process is None:
            return
        if kill:
            for pid, _ in self.descendants():  # no orphaned writer or workers
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            self.process.kill()
        else:
            self.process.terminate()
        self.process.wait(timeout=30)
        self.process = None

    def descendants(self) -> list[tuple[int, str]]:
        """(pid, command line) of every process below the server (its writer and workers)."""
        assert self.process is not None
        children: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent = int(stat.rpartition(")")[2].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
        found: list[tuple[int, str]] = []
        pending = [self.process.pid]
        while pending:
            for pid in children.get(pending.pop(), []):
                try:
                    command = (Path("/proc") / str(pid) / "cmdline").read_bytes()
                except OSError:
                    continue
                found.append((pid, command.replace(b"\0", b" ").decode()))
                pending.append(pid)
        return found

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
            verify=self.tls or True,
        )
