"""The gallery in shard servers (2 partitions x 2 replicas and the service, real processes on
127.0.0.1, one cluster for the module): the black-box scenario passes, a fixed sequence of
requests gets the same answers as from the embedded default on the same synthetic data, no
replica of a partition is a 503; kill -9 of a replica under load loses nothing and never
answers a wrong "no hit"; a replica comes back from its snapshot plus the log; an erasure racing
searches is never reported after its acknowledgement; a standby writer takes over and the old
one is fenced by its epoch (last: it leaves the module's service fenced)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import POSTGRES_URL
from tests.e2e import test_secondary_movement_scenario as scenario
from tests.factories import new_person_seed, transmission
from tests.scrape import scrape
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
    from tests.conftest import POSTGRES_URL, fresh_database

    yield from fresh_database("postgresql" if POSTGRES_URL else "sqlite", tmp_path_factory)


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


def test_shards_and_writer_export_the_metrics_the_shard_alert_rules_read(
        cluster: Cluster) -> None:
    import httpx

    from tests.integration.test_metrics import (
        SHARD_TIER_GROUP,
        dashboard_expressions,
        rule_expressions,
    )
    from tests.promql_names import exposable_names, metric_names
    from tests.scrape import Scrape

    with cluster.service.client("EU", "operator") as operator:
        service = scrape(operator)  # `abis serve` with ABIS_SHARDS writes: the writer's gauges
    committed = service.value("abis_writer_committed_seq")
    assert committed > 0 and service.value("abis_writer_epoch") >= 1
    assert service.value("abis_writer_lease_held") == 1
    assert service.value("abis_writer_batch_duration_seconds_count") > 0
    exposed = exposable_names({name: family.type for name, family in service.families.items()})
    datasets = 0.0
    for shard in cluster.all():
        answer = httpx.get(f"http://127.0.0.1:{shard.metrics_port}/metrics", timeout=10)
        assert answer.status_code == 200
        scraped = Scrape(answer.text)
        partition = str(shard.partition)
        assert scraped.value("abis_shard_partition", partition=partition, partitions="2") == 1
        assert scraped.value("abis_shard_ready", partition=partition) == 1
        assert scraped.value("abis_shard_applied_seq", partition=partition) <= committed
        assert scraped.value("abis_shard_gallery_bytes", partition=partition) > 0
        assert scraped.value("process_resident_memory_bytes") > 0
        datasets += scraped.value("abis_shard_gallery_datasets", partition=partition)
        exposed |= exposable_names({name: family.type
                                    for name, family in scraped.families.items()})
        searched = scraped.value("abis_shard_searches_total", outcome="answered")
        assert scraped.value("abis_shard_search_duration_seconds_count") >= searched
        assert "reference" not in answer.text.lower()  # ids and numbers only, no personal data
    # Each partition's datasets are counted by both its replicas; searches reached them all.
    assert datasets == 2 * sum(service.value("abis_gallery_datasets", partition=str(p))
                               for p in range(2))
    reports = {sample.labels["replica"] for sample in service.samples
               if sample.name == "abis_index_log_replica_needs_after"}
    assert len(reports) == 4  # every replica reports what it needs of the index log
    named = set().union(*(metric_names(expression)
                          for expression in rule_expressions()[SHARD_TIER_GROUP]))
    assert len(named) >= 6
    assert named <= exposed | {"up"}, f"not exposed: {sorted(named - exposed)}"
    panels = set().union(*(metric_names(expression)
                           for expression in dashboard_expressions(shard_tier=True)))
    assert len(panels) >= 10  # the dashboard's shard-tier row reads these exporters
    assert panels <= exposed, f"not exposed: {sorted(panels - exposed)}"


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


def _enrol(cluster: Cluster, people: list[int]) -> dict[int, list[tuple[str, str]]]:
    """Each person's stored datasets: (reference number, Member State)."""
    stored: dict[int, list[tuple[str, str]]] = {}
    with cluster.service.client("IT") as italy:
        for person in people:
            reply = italy.post("/v1/transmissions", json=transmission("IT", 2, person=person))
            assert reply.status_code == 201, reply.text
            stored[person] = [(reply.json()["reference_number"], "IT")]
    return stored


def _others(stored: list[tuple[str, str]], sender: str) -> set[str]:
    """What a stored-category transmission of `sender` must hit: not its own datasets."""
    return {reference for reference, state in stored if state != sender}


def _hits(reply: Any) -> set[str]:
    return {hit["reference_number"] for hit in reply.json().get("hits", [])}


def test_kill_9_of_a_replica_under_load_loses_nothing_and_never_answers_a_wrong_no_hit(
        cluster: Cluster) -> None:
    people = [new_person_seed() for _ in range(12)]
    stored = _enrol(cluster, people)
    answers: list[tuple[int, int, set[str], set[str]]] = []  # person, status, hits, expected
    lock = threading.Lock()
    stop = threading.Event()

    def load(worker: int) -> None:
        state = ("DE", "NL", "AT")[worker]
        with cluster.service.client(state) as client:
            turn = 0
            while not stop.is_set():
                person = people[(worker * 5 + turn) % len(people)]
                turn += 1
                with lock:  # every dataset acknowledged before sending
                    expected = _others(stored[person], state)
                reply = client.post("/v1/transmissions", json=transmission(
                    state, 1, person=person, capture=100 + worker * 1000 + turn))
                with lock:
                    answers.append((person, reply.status_code, _hits(reply), expected))
                    if reply.status_code == 201:
                        stored[person].append((reply.json()["reference_number"], state))

    workers = [threading.Thread(target=load, args=(n,)) for n in range(3)]
    for worker in workers:
        worker.start()
    victim = cluster.shards[0][0]
    time.sleep(1.5)
    victim.kill()  # kill -9 in the middle of the load
    time.sleep(2.0)
    victim.start()  # no snapshot (killed): the store plus the log
    victim.wait_serving()
    time.sleep(1.0)
    victim.stop()  # a clean stop writes its snapshot...
    time.sleep(1.0)
    victim.start()  # ...which the next start loads, then replays the log
    victim.wait_serving()
    time.sleep(1.0)
    stop.set()
    for worker in workers:
        worker.join(60)
    assert len(answers) > 20
    # One replica of each partition was up all along: every request was answered in full.
    assert {status for _, status, _, _ in answers} == {201}
    wrong = [(person, hits, expected) for person, _, hits, expected in answers
             if not expected <= hits]
    assert not wrong, "an answer missed datasets acknowledged before it was sent"
    # Nothing was lost: the restarted replica alone answers for its partition.
    cluster.shards[0][1].pause()
    try:
        with cluster.service.client("FR") as france:
            for person in people:
                reply = france.post("/v1/transmissions", json=transmission(
                    "FR", 1, person=person, capture=99_999))
                assert reply.status_code == 201, reply.text
                assert _others(stored[person], "FR") <= _hits(reply)
    finally:
        cluster.shards[0][1].resume()


def test_an_erasure_racing_searches_is_never_reported_after_its_acknowledgement(
        cluster: Cluster) -> None:
    person = new_person_seed()
    erased = _enrol(cluster, [person])[person][0][0]
    acknowledged = threading.Event()
    late_reports: list[str] = []
    seen_before = 0
    stop = threading.Event()

    def search(worker: int) -> None:
        nonlocal seen_before
        with cluster.service.client("FR") as france:
            turn = 0
            while not stop.is_set():
                turn += 1
                after = acknowledged.is_set()
                reply = france.post("/v1/transmissions", json=transmission(
                    "FR", 1, person=person, capture=500 + worker * 1000 + turn))
                assert reply.status_code == 201, reply.text
                if erased in _hits(reply):
                    if after:
                        late_reports.append(reply.json()["reference_number"])
                    else:
                        seen_before += 1

    workers = [threading.Thread(target=search, args=(n,)) for n in range(3)]
    for worker in workers:
        worker.start()
    time.sleep(1.0)
    with cluster.service.client("IT") as italy:
        reply = italy.delete(f"/v1/datasets/{erased}", params={"reason": "citizenship"})
    assert reply.status_code == 200, reply.text
    acknowledged.set()
    time.sleep(2.0)
    stop.set()
    for worker in workers:
        worker.join(60)
    assert seen_before > 0  # the race was real: searches hit it until it was erased
    assert late_reports == []


@pytest.mark.skipif(not POSTGRES_URL, reason="lease takeover is tested on PostgreSQL")
def test_a_standby_writer_takes_over_and_the_old_one_is_fenced(cluster: Cluster) -> None:
    person = new_person_seed()
    first = _enrol(cluster, [person])[person][0][0]
    standby = RunningService(dict(cluster.service.env, ABIS_WRITER_WAIT="true"), free_port())
    started = threading.Thread(target=standby.start, kwargs={"timeout": 90})
    started.start()
    try:
        time.sleep(3.0)
        assert started.is_alive()  # waiting for the lease
        url = cluster.service.env["ABIS_DATABASE_URL"]
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:  # the old writer's lease ends (as if cut off)
            ended = connection.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_locks "
                "WHERE locktype = 'advisory' AND objid = :key AND granted"),
                {"key": 0x61626973}).all()
        admin.dispose()
        assert ended
        started.join(90)
        assert standby.process is not None
        with cluster.service.client("DE") as old_writer:
            fenced = old_writer.post("/v1/transmissions", json=transmission(
                "DE", 1, person=person, capture=2))
        assert fenced.status_code == 503, fenced.text
        assert fenced.json()["type"] == "/problems/writer-fenced"
        assert fenced.headers["Retry-After"]
        standby.keys = dict(cluster.service.keys)
        with standby.client("DE") as new_writer:
            answer = new_writer.post("/v1/transmissions", json=transmission(
                "DE", 1, person=person, capture=3))
        assert answer.status_code == 201, answer.text
        assert first in _hits(answer)
    finally:
        started.join(90)
        standby.stop()
