"""Real shard servers (`abis shard`) in subprocesses on free loopback ports, and the service in
front of them (ABIS_SHARDS)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.service_process import RunningService, free_port


def health(address: str, timeout: float = 1.0, credentials: object | None = None) -> int | None:
    """The shard's grpc health status (health_pb2.HealthCheckResponse.*), None if unreachable."""
    channel = (grpc.insecure_channel(address) if credentials is None
               else grpc.secure_channel(address, credentials))
    try:
        reply = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=""), timeout=timeout)
        return int(reply.status)
    except grpc.RpcError:
        return None
    finally:
        channel.close()


@dataclass
class Shard:
    env: dict[str, str]
    partition: int
    partitions: int
    port: int = field(default_factory=free_port)
    metrics_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "service", "shard", "--partition", str(self.partition),
             "--partitions", str(self.partitions), "--listen", self.address,
             "--metrics-listen", f"127.0.0.1:{self.metrics_port}"],
            env=self.env, stderr=subprocess.DEVNULL)

    def wait_serving(self, timeout: float = 60.0, credentials: object | None = None) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"abis shard exited {self.process.returncode}")
            if health(self.address, credentials=credentials) == (
                    health_pb2.HealthCheckResponse.SERVING):
                return
            time.sleep(0.1)
        raise RuntimeError(f"shard {self.address} did not become SERVING")

    def kill(self) -> None:
        """kill -9: no snapshot, no goodbye."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=30)
            self.process = None

    def pause(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGCONT)
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
            self.process = None


@dataclass
class Cluster:
    """P partitions x R replicas and one service writing through them."""

    service: RunningService
    shards: list[list[Shard]]

    @classmethod
    def make(cls, env: dict[str, str], partitions: int, replicas: int) -> Cluster:
        shards = [[Shard(env, p, partitions) for _ in range(replicas)]
                  for p in range(partitions)]
        spec = ",".join("|".join(s.address for s in group) for group in shards)
        return cls(RunningService(dict(env, ABIS_SHARDS=spec, ABIS_SHARD_TIMEOUT_SECONDS="3"),
                                  free_port()), shards)

    def all(self) -> list[Shard]:
        return [shard for group in self.shards for shard in group]

    def start(self) -> None:
        migrated = subprocess.run([sys.executable, "-m", "service", "db", "upgrade"],
                                  env=self.service.env, capture_output=True, text=True,
                                  timeout=120, check=False)
        assert migrated.returncode == 0, migrated.stderr
        for shard in self.all():
            shard.start()
        for shard in self.all():
            shard.wait_serving()
        self.service.start()

    def stop(self) -> None:
        self.service.stop()
        for shard in self.all():  # all at once: each writes its snapshot on the way out
            if shard.process is not None:
                shard.process.send_signal(signal.SIGCONT)
                shard.process.terminate()
        for shard in self.all():
            shard.stop()
