"""`abis serve --workers 2`: the writer and two stateless API workers as real processes on
127.0.0.1. Transmissions of one person taken by different workers see each other, every
request has exactly one audit event, and kill -9 of an API worker or of the writer loses no
acknowledged transmission (clients see a refused connection or a retry-able 503, never a 5xx
otherwise, and after the restart every acknowledged dataset is there)."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import orjson
import pytest
from sqlalchemy import create_engine, select

from service.audit.models import AuditEventRow
from tests.conftest import POSTGRES_URL, fresh_database
from tests.e2e.test_secondary_movement_scenario import (
    test_apprehended_in_italy_then_applying_in_germany,
    test_unrelated_person_gets_no_hit,
)
from tests.factories import new_person_seed, transmission
from tests.service_process import RunningService, cli, free_port, service_env

# The end-to-end scenario runs here too, against the workers.
__all__ = ["test_apprehended_in_italy_then_applying_in_germany",
           "test_unrelated_person_gets_no_hit"]
STATES = ["IT", "DE", "FR", "ES"]


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One backend only (CI time): PostgreSQL, the production store, when the tests have one."""
    yield from fresh_database("postgresql" if POSTGRES_URL else "sqlite", tmp_path_factory)


@pytest.fixture(scope="module")
def service(database_url: str, data_dir: Path) -> Iterator[RunningService]:
    from service.audit.keys import generate_audit_key_file
    from service.crypto.master_key import generate_key_file

    generate_key_file(data_dir / "master.key")
    generate_audit_key_file(data_dir / "audit.key")
    # A synthetic (development-mode) deployment, so that the evaluation search, which exists
    # only there, can be checked on a worker too; the tier's guarantees do not depend on it.
    # The writer process exports its metrics there (the API workers have /metrics instead).
    env = service_env(data_dir, database_url, ABIS_DEV="true", ABIS_SYNTHETIC_DEPLOYMENT="true",
                      ABIS_METRICS_LISTEN=f"127.0.0.1:{free_port()}")
    running = RunningService(env, free_port(), workers=2)
    running.start(timeout=180)
    try:
        yield running
    finally:
        running.stop()


def _pids(service: RunningService, role: str) -> list[int]:
    marker = "service writer" if role == "writer" else "spawn_main"
    return [pid for pid, command in service.descendants() if marker in command]


def _wait_ready(service: RunningService, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{service.url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("the service did not become ready again")


def _read_when_served(client: httpx.Client, path: str, timeout: float = 60.0
                      ) -> httpx.Response:
    """The status of a read, once no worker answers 503: /readyz reached one worker, and the
    other may still be reconnecting to a restarted writer (503 with Retry-After meanwhile)."""
    deadline = time.monotonic() + timeout
    while True:
        answer = client.get(path)
        if answer.status_code != 503 or time.monotonic() > deadline:
            return answer
        assert answer.headers.get("retry-after")
        time.sleep(0.2)


def test_the_writer_and_two_api_workers_run_behind_one_port(service: RunningService) -> None:
    assert len(_pids(service, "writer")) == 1
    assert len(_pids(service, "api")) == 2


def test_simultaneous_transmissions_of_one_person_see_each_other(
    service: RunningService,
) -> None:
    """Pairs sent at once (the workers take them in parallel): in every pair exactly one, the
    one the writer ordered second, hits the other: they are never both 'no hit'."""
    people = [new_person_seed() for _ in range(8)]
    bodies = [transmission(state, 1, person=person, capture=index + 1)
              for person in people for index, state in enumerate(("IT", "DE"))]
    clients = {state: service.client(state) for state in ("IT", "DE")}
    try:
        with ThreadPoolExecutor(len(bodies)) as pool:
            answers = list(pool.map(
                lambda body: clients[str(body["reference_number"])[:2]].post(
                    "/v1/transmissions", json=body), bodies))
    finally:
        for client in clients.values():
            client.close()
    assert [answer.status_code for answer in answers] == [201] * len(bodies)
    for first, second in zip(answers[::2], answers[1::2], strict=True):
        hits = ([hit["reference_number"] for hit in first.json()["hits"]],
                [hit["reference_number"] for hit in second.json()["hits"]])
        assert sorted(hits, key=len) == [[], [first.json()["reference_number"]]] or sorted(
            hits, key=len) == [[], [second.json()["reference_number"]]], hits


def test_every_request_has_exactly_one_audit_event(service: RunningService,
                                                   database_url: str) -> None:
    """Transmissions (written in the writer's batch), refusals and reads (written by the
    middleware through the writer), over both workers."""
    request_ids: list[str] = []
    with service.client("IT") as italy:
        for _ in range(6):
            stored = italy.post("/v1/transmissions",
                                json=transmission("IT", 2, person=new_person_seed()))
            assert stored.status_code == 201
            reference = stored.json()["reference_number"]
            read = italy.get(f"/v1/datasets/{reference}")
            refused = italy.post("/v1/transmissions", json={"category": 2})
            assert (read.status_code, refused.status_code) == (200, 422)
            request_ids += [answer.headers["x-request-id"] for answer in (stored, read, refused)]
    engine = create_engine(database_url)
    with engine.connect() as connection:
        bodies = [orjson.loads(body) if isinstance(body, (bytes, str)) else body
                  for body in connection.scalars(select(AuditEventRow.body))]
    engine.dispose()
    written = [body["request_id"] for body in bodies]
    for request_id in request_ids:
        assert written.count(request_id) == 1, request_id


def _transmit_under_fire(service: RunningService, kill: object) -> dict[str, int]:
    """Clients transmit while `kill()` runs; the references acknowledged (201). Any other
    answer must be a retry-able 503 or a dropped connection."""
    acknowledged: dict[str, int] = {}
    lock = threading.Lock()
    stop = threading.Event()
    unexpected: list[str] = []

    def sender(worker: int) -> None:
        with httpx.Client(base_url=service.url, timeout=60) as client:
            for index in range(400):  # bounded
                if stop.is_set():
                    return
                state = STATES[(worker + index) % len(STATES)]
                person = new_person_seed()
                body = transmission(state, 2, person=person)
                try:
                    answer = client.post("/v1/transmissions", json=body, headers={
                        "Authorization": f"Bearer {service.key(state)}"})
                except httpx.TransportError:
                    time.sleep(0.05)  # the worker died under us: not acknowledged
                    continue
                if answer.status_code == 201:
                    with lock:
                        acknowledged[str(body["reference_number"])] = person
                elif answer.status_code == 503:
                    assert answer.headers.get("retry-after")
                    time.sleep(0.05)
                else:
                    unexpected.append(f"{answer.status_code} {answer.text[:200]}")

    for state in STATES:
        service.key(state)  # made before the clients start
    threads = [threading.Thread(target=sender, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    while len(acknowledged) < 20 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert callable(kill)
    kill()
    before = len(acknowledged)
    while len(acknowledged) < before + 20 and time.monotonic() < deadline + 180:
        time.sleep(0.1)  # the service takes transmissions again after the restart
    stop.set()
    for thread in threads:
        thread.join(60)
    assert not unexpected, unexpected
    assert len(acknowledged) >= before + 20, "no transmission was taken after the restart"
    return acknowledged


def _all_there(service: RunningService, acknowledged: dict[str, int]) -> None:
    _wait_ready(service)
    for reference in acknowledged:
        with service.client(reference[:2]) as owner:
            assert _read_when_served(owner, f"/v1/datasets/{reference}").status_code == 200, \
                reference
    with service.client("EU", "supervisor") as edps:
        assert _read_when_served(edps, "/v1/audit/verify").json()["ok"] is True


def test_kill_9_of_an_api_worker_loses_nothing_acknowledged(service: RunningService) -> None:
    def kill_one_worker() -> None:
        os.kill(_pids(service, "api")[0], signal.SIGKILL)

    acknowledged = _transmit_under_fire(service, kill_one_worker)
    _all_there(service, acknowledged)
    # uvicorn starts a new one; on a loaded machine its import can take a while
    deadline = time.monotonic() + 120
    while len(_pids(service, "api")) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(_pids(service, "api")) == 2


def test_kill_9_of_the_writer_loses_nothing_acknowledged(service: RunningService) -> None:
    killed: list[int] = []

    def kill_writer() -> None:
        killed.extend(_pids(service, "writer"))
        os.kill(killed[0], signal.SIGKILL)

    acknowledged = _transmit_under_fire(service, kill_writer)
    _all_there(service, acknowledged)
    writers = _pids(service, "writer")
    assert len(writers) == 1 and writers != killed  # the supervisor started a new writer


def test_the_tier_commands_refuse_an_unsafe_or_incomplete_setup(service: RunningService) -> None:
    """`abis api` needs the writer's address; `abis writer` refuses plain traffic off loopback
    (templates and sealed datasets travel on that channel)."""
    no_writer = cli(service.env, "api")
    assert no_writer.returncode == 2 and "ABIS_WRITER" in no_writer.stderr
    exposed = cli(service.env, "writer", "--listen", "192.0.2.1:7100")
    assert exposed.returncode == 2 and "mutual TLS" in exposed.stderr


def test_an_evaluation_search_on_a_worker_is_answered_from_the_writers_gallery(
    service: RunningService,
) -> None:
    person = new_person_seed()
    with service.client("IT") as italy:
        stored = italy.post("/v1/transmissions", json=transmission("IT", 2, person=person))
    assert stored.status_code == 201
    probe = transmission("IT", 2, person=person, capture=2)["biometrics"]
    with service.client("EU", "operator") as operator:
        answer = operator.post("/v1/evaluation/search", json={
            "limit": 3, "probes": [{"probe_id": "p1", "biometrics": probe}]})
        ready = httpx.get(f"{service.url}/readyz")
    assert answer.status_code == 200, answer.text
    assert answer.json()["gallery_size"] == ready.json()["datasets"] > 0
    best = answer.json()["results"][0]["candidates"][0]
    assert best["reference_number"] == stored.json()["reference_number"]


def test_the_writer_process_exports_the_metrics_the_shard_tier_rules_read(
    service: RunningService,
) -> None:
    """`abis writer` (here the child of `abis serve --workers 2`) on ABIS_METRICS_LISTEN: its
    lease and epoch, committed sequence, batches, and every writer metric the alert rules and
    the dashboard's shard-tier row name; ids and numbers only, no personal data."""
    from tests.integration.test_metrics import (
        SHARD_TIER_GROUP,
        dashboard_expressions,
        rule_expressions,
    )
    from tests.promql_names import exposable_names, metric_names
    from tests.scrape import Scrape

    with service.client("IT") as italy:
        stored = italy.post("/v1/transmissions",
                            json=transmission("IT", 2, person=new_person_seed()))
    assert stored.status_code == 201
    answer = httpx.get(f"http://{service.env['ABIS_METRICS_LISTEN']}/metrics", timeout=10)
    assert answer.status_code == 200
    writer = Scrape(answer.text)
    assert writer.value("abis_writer_lease_held") == 1
    assert writer.value("abis_writer_epoch") >= 1
    assert writer.value("abis_writer_committed_seq") >= 1
    assert writer.value("abis_writer_batch_duration_seconds_count") >= 1
    assert writer.value("process_resident_memory_bytes") > 0
    assert stored.json()["reference_number"] not in answer.text
    exposed = exposable_names({name: family.type for name, family in writer.families.items()})
    named = set().union(*(metric_names(expression) for expression in [
        *rule_expressions()[SHARD_TIER_GROUP], *dashboard_expressions(shard_tier=True)]))
    writers = {name for name in named if name.startswith(("abis_writer_", "abis_index_log_"))}
    assert len(writers) >= 4
    assert writers <= exposed, f"not exposed by the writer: {sorted(writers - exposed)}"
