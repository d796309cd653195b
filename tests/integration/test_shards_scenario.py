"""The gallery in shard servers (2 partitions x 2 replicas, real processes on 127.0.0.1): the
black-box scenario passes, and a fixed sequence of requests gets the same answers as from the
embedded default on the same synthetic data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e import test_secondary_movement_scenario as scenario
from tests.factories import transmission
from tests.service_process import RunningService, free_port, service_env
from tests.shard_cluster import Cluster

pytestmark = pytest.mark.slow


def _keys(data_dir: Path) -> None:
    from service.audit.keys import generate_audit_key_file
    from service.crypto.master_key import generate_key_file

    generate_key_file(data_dir / "master.key")
    generate_audit_key_file(data_dir / "audit.key")


@pytest.fixture(scope="module")
def shard_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from _database(tmp_path_factory)


def _database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """PostgreSQL when the tests have one (as CI does), else a SQLite file."""
    from tests.conftest import POSTGRES_URL

    if not POSTGRES_URL:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'abis.db'}"
        return
    import secrets

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"abis_test_{secrets.token_hex(4)}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def cluster(shard_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    data_dir = tmp_path_factory.mktemp("shards")
    _keys(data_dir)
    running = Cluster.make(service_env(data_dir, shard_database), partitions=2, replicas=2)
    running.start()
    try:
        yield running
    finally:
        running.stop()


def test_the_black_box_scenario_passes_through_shards(cluster: Cluster) -> None:
    scenario.test_apprehended_in_italy_then_applying_in_germany(cluster.service)
    scenario.test_unrelated_person_gets_no_hit(cluster.service)
    scenario.test_admission_search_is_answered_but_not_stored(cluster.service)


_PEOPLE = [7_000_001 + n for n in range(12)]


def _script() -> list[tuple[str, str, dict[str, Any]]]:
    """Fixed requests: (member state, kind, body) with fixed reference numbers and persons."""
    steps: list[tuple[str, str, dict[str, Any]]] = []
    states = ["IT", "DE", "FR"]  # each state's key is made by the CLI once per service
    for n, person in enumerate(_PEOPLE):
        for capture in (1, 2, 3) if n % 3 == 0 else (1, 2):
            state = states[(n + capture) % len(states)]
            category = (2, 1, 3)[(n + capture) % 3]
            steps.append((state, "transmit", transmission(
                state, category, person=person, capture=capture,
                reference_number=f"{state}{category}SCRIPT{n:03d}C{capture}",
                face=capture != 3)))
    first_state, _, first = steps[0]  # erased: later searches must no longer report it
    steps.append((first_state, "erase", {"reference_number": first["reference_number"]}))
    for n, person in enumerate(_PEOPLE[:6]):
        steps.append(("FR", "transmit", transmission(
            "FR", 1, person=person, capture=9, reference_number=f"FR1SCRIPT{n:03d}C9")))
    return steps


def _answers(service: RunningService) -> list[Any]:
    answers: list[Any] = []
    for state, kind, body in _script():
        with service.client(state) as client:
            if kind == "erase":
                reply = client.delete(f"/v1/datasets/{body['reference_number']}",
                                      params={"reason": "citizenship"})
                assert reply.status_code == 200, reply.text
                answers.append((reply.status_code,))
                continue
            reply = client.post("/v1/transmissions", json=body)
        result = reply.json()
        answers.append((reply.status_code, result.get("result"), [
            (hit["reference_number"], round(hit["score"], 4), hit["modality"])
            for hit in result.get("hits", [])]))
    return answers


def test_same_answers_as_the_embedded_default(
        cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> None:
    sharded = _answers(cluster.service)
    data_dir = tmp_path_factory.mktemp("embedded")
    _keys(data_dir)
    database = _database(tmp_path_factory)
    url = next(database)
    embedded = RunningService(service_env(data_dir, url), free_port())
    embedded.start()
    try:
        alone = _answers(embedded)
    finally:
        embedded.stop()
        database.close()
    assert sharded == alone
    assert any(answer[1] == "hit" for answer in alone if len(answer) > 1)


def test_search_audit_names_partitions_replicas_epoch_and_sequence(cluster: Cluster) -> None:
    with cluster.service.client("EU", "supervisor") as supervisor:
        events = supervisor.get("/v1/audit/events", params={"limit": 50})
    assert events.status_code == 200, events.text
    bodies = [event["event"] for event in events.json()["events"] if event["event"]]
    searched = [body["outcome"]["search"] for body in bodies
                if "search" in (body.get("outcome") or {})]
    assert searched
    replicas = {shard.address for shard in cluster.all()}
    for search in searched:
        assert [part["partition"] for part in search["partitions"]] == [0, 1]
        assert all(part["replica"] in replicas and part["epoch"] >= 1
                   for part in search["partitions"])
        assert isinstance(search["committed_seq"], int)


def test_no_replica_of_a_partition_is_a_503_with_retry_after(cluster: Cluster) -> None:
    for shard in cluster.shards[1]:
        shard.pause()
    try:
        with cluster.service.client("IT") as italy:
            reply = italy.post("/v1/transmissions",
                               json=transmission("IT", 2, person=_PEOPLE[1], capture=7))
        assert reply.status_code == 503, reply.text
        assert reply.headers["Retry-After"]
        assert reply.json()["type"] == "/problems/gallery-unavailable"
    finally:
        for shard in cluster.shards[1]:
            shard.resume()
    with cluster.service.client("IT") as italy:
        again = italy.post("/v1/transmissions",
                           json=transmission("IT", 2, person=_PEOPLE[1], capture=7))
    assert again.status_code == 201, again.text
    assert again.json()["result"] == "hit"
