"""The black-box scenario against the abis image, run by a container engine on this host.

    python deploy/container_scenario.py --image localhost/abis:dev --database-url URL \
        [--engine podman] [--engine-option=--runtime=runc ...]

Makes trial secrets (service.tls.trial_pki) in a temporary directory, runs `abis db upgrade`
and `abis keys create` in one-shot containers, starts `abis serve` over HTTPS on 127.0.0.1
(host network), transmits two datasets of one synthetic person from Italy and Germany, and
checks that Germany gets the hit on Italy's dataset. Stops and removes what it started. Needs
root (or the image's uid 10001) to hand the secrets to the container's user.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from service.tls.trial_pki import trial_secrets  # noqa: E402
from tests.factories import new_person_seed, transmission  # noqa: E402

UID = 10001  # the image's user (deploy/Dockerfile)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Engine:
    def __init__(self, command: list[str], image: str, secrets_dir: Path, data_dir: Path,
                 env: dict[str, str], run_options: list[str]) -> None:
        self.command, self.image, self.env = command, image, env
        self.run_options = run_options
        self.mounts = ["-v", f"{secrets_dir}:/run/secrets:ro", "-v", f"{data_dir}:/var/lib/abis"]

    def args(self, *extra: str) -> list[str]:
        environment = [f"--env={key}={value}" for key, value in self.env.items()]
        return [*self.command, "run", "--network=host", "--read-only", *self.mounts,
                *environment, *self.run_options, *extra, self.image]

    def once(self, *abis: str) -> str:
        done = subprocess.run([*self.args("--rm"), *abis], capture_output=True, text=True,
                              timeout=300, check=False)
        if done.returncode != 0:
            raise SystemExit(f"abis {' '.join(abis)} failed in the container:\n{done.stderr}")
        return done.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--image", required=True)
    parser.add_argument("--database-url", required=True,
                        help="an empty database the container reaches (host network)")
    parser.add_argument("--engine", default="podman")
    parser.add_argument("--engine-option", action="append", default=[],
                        help="an option before `run` (e.g. --runtime=runc)")
    parser.add_argument("--run-option", action="append", default=[],
                        help="an option of `run` (e.g. --ulimit=nofile=1024:1024)")
    arguments = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="abis-container-"))
    secrets_dir, data_dir = work / "secrets", work / "data"
    trial_secrets(secrets_dir, ("127.0.0.1", "localhost"))
    (secrets_dir / "database-url").write_text(arguments.database_url + "\n")
    data_dir.mkdir(mode=0o700)
    for path in (secrets_dir, data_dir, *secrets_dir.iterdir()):
        os.chown(path, UID, UID)
    port = free_port()
    engine = Engine(
        [arguments.engine, *arguments.engine_option], arguments.image, secrets_dir, data_dir,
        {"ABIS_DATABASE_URL_FILE": "/run/secrets/database-url",
         "ABIS_MASTER_KEY_FILE": "/run/secrets/master.key",
         "ABIS_AUDIT_KEY_FILE": "/run/secrets/audit.key",
         "ABIS_TLS_CERT": "/run/secrets/server.crt", "ABIS_TLS_KEY": "/run/secrets/server.key",
         "ABIS_HOST": "127.0.0.1", "ABIS_PORT": str(port), "ABIS_LOG_LEVEL": "WARNING"},
        arguments.run_option,
    )
    name = f"abis-scenario-{secrets.token_hex(4)}"
    started = time.monotonic()
    try:
        engine.once("db", "upgrade")
        print("migrated (abis db upgrade in a container)", flush=True)
        keys = {ms: engine.once("keys", "create", "--member-state", ms, "--role", "officer")
                .strip() for ms in ("IT", "DE")}
        subprocess.run([*engine.args("--detach", f"--name={name}"), "serve"],
                       check=True, capture_output=True, timeout=120)
        url = f"https://127.0.0.1:{port}"
        verify = str(secrets_dir / "ca.crt")
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/readyz", verify=verify, timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                logs = subprocess.run([arguments.engine, *arguments.engine_option, "logs", name],
                                      capture_output=True, text=True, check=False)
                raise SystemExit(f"the container never became ready:\n{logs.stderr[-3000:]}")
            time.sleep(0.5)
        print(f"ready over HTTPS after {time.monotonic() - started:.1f} s", flush=True)
        if Path(arguments.engine).name == "podman":  # the image's own HEALTHCHECK, run once
            health = subprocess.run([arguments.engine, *arguments.engine_option, "healthcheck",
                                     "run", name], capture_output=True, text=True, check=False)
            assert health.returncode == 0, f"HEALTHCHECK failed: {health.stdout}{health.stderr}"
            print("the image's HEALTHCHECK passes", flush=True)
        person = new_person_seed()
        first = httpx.post(f"{url}/v1/transmissions", verify=verify, timeout=30,
                           headers={"Authorization": f"Bearer {keys['IT']}"},
                           json=transmission("IT", 2, person=person))
        assert first.status_code == 201, first.text
        second = httpx.post(f"{url}/v1/transmissions", verify=verify, timeout=30,
                            headers={"Authorization": f"Bearer {keys['DE']}"},
                            json=transmission("DE", 1, person=person, capture=2))
        assert second.status_code == 201, second.text
        answer = second.json()
        hits = [hit["reference_number"] for hit in answer["hits"]]
        assert answer["result"] == "hit" and hits == [first.json()["reference_number"]], answer
        print(f"scenario passed: Germany's transmission hit Italy's dataset ({hits[0]})")
        return 0
    finally:
        subprocess.run([arguments.engine, *arguments.engine_option, "rm", "--force",
                        "--time=30", name], capture_output=True, check=False, timeout=120)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
