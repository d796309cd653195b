"""Production-store guarantees: races on a reference number, one service per database, kill -9
in the middle of transmissions, and backup/restore giving the same answers."""

from __future__ import annotations

import shutil
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.factories import new_person_seed, transmission
from tests.service_process import RunningService, free_port, service_env

STATES = ["IT", "DE", "FR", "ES"]


def test_racing_the_same_reference_number_stores_exactly_one(service: RunningService) -> None:
    body = transmission("DE", 1, person=new_person_seed())
    clients = [service.client("DE") for _ in range(8)]
    try:
        with ThreadPoolExecutor(len(clients)) as pool:
            codes = list(pool.map(lambda c: c.post("/v1/transmissions", json=body).status_code,
                                  clients))
    finally:
        for client in clients:
            client.close()
    assert sorted(codes) == [201] + [409] * 7


def test_a_second_service_on_the_same_database_refuses_to_start(service: RunningService) -> None:
    second = RunningService(service.env, free_port())
    with pytest.raises(RuntimeError, match="another abis service"):
        second.start(timeout=30)


def _count(database_url: str, table: str) -> int:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        number = int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
    engine.dispose()
    return number


def test_kill_9_during_transmissions_loses_nothing_acknowledged(
    service: RunningService, database_url: str
) -> None:
    """Many clients transmit; the service is killed mid-stream and restarted: every answered
    transmission is there and searchable, nothing is half-stored, index and store agree, and
    the audit chain still verifies."""
    acknowledged: dict[str, int] = {}  # reference number -> person
    lock = threading.Lock()
    stop = threading.Event()
    clients = {state: service.client(state) for state in STATES}

    def sender(worker: int) -> None:
        for index in range(200):  # bounded
            if stop.is_set():
                return
            state = STATES[(worker + index) % len(STATES)]
            person = new_person_seed()
            body = transmission(state, 2, person=person)
            try:
                answer = clients[state].post("/v1/transmissions", json=body)
            except httpx.TransportError:
                return  # the service died under us: this one was never acknowledged
            if answer.status_code == 201:
                with lock:
                    acknowledged[str(body["reference_number"])] = person
                    if len(acknowledged) >= 60:
                        stop.set()

    threads = [threading.Thread(target=sender, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    stop.wait(120)
    service.stop(kill=True)
    for thread in threads:
        thread.join(30)
    for client in clients.values():
        client.close()
    assert len(acknowledged) >= 60

    service.start()
    stored = _count(database_url, "datasets")
    assert httpx.get(f"{service.url}/readyz").json()["datasets"] == stored
    for reference in acknowledged:
        with service.client(reference[:2]) as owner:
            assert owner.get(f"/v1/datasets/{reference}").status_code == 200
    with service.client("PT") as portugal:
        for reference, person in list(acknowledged.items())[:10]:
            found = portugal.post("/v1/transmissions",
                                  json=transmission("PT", 1, person=person, capture=2)).json()
            assert reference in [hit["reference_number"] for hit in found["hits"]]
    with service.client("EU", "supervisor") as edps:
        assert edps.get("/v1/audit/verify").json()["ok"] is True


def _search_answers(running: RunningService, people: list[int]) -> list[list[str]]:
    with running.client("AT", "law_enforcement") as austria:
        return [
            sorted(hit["reference_number"] for hit in austria.post(
                "/v1/transmissions", json=transmission("AT", 4, person=person, capture=3,
                                                       purpose="test", case_number="C1")
            ).json()["hits"])
            for person in people
        ]


def test_backup_restores_into_a_fresh_data_directory_with_the_same_answers(
    service: RunningService, database_url: str, data_dir: Path, tmp_path: Path
) -> None:
    people = [new_person_seed() for _ in range(4)]
    with service.client("IT") as italy:
        for person in people:
            assert italy.post("/v1/transmissions",
                              json=transmission("IT", 2, person=person)).status_code == 201
    original = _search_answers(service, people)  # law-enforcement searches store nothing
    assert all(original)

    fresh = tmp_path / "restored"
    fresh.mkdir()
    for key in ("master.key", "audit.key"):
        shutil.copy2(data_dir / key, fresh / key)
    if database_url.startswith("sqlite:///"):
        target = f"sqlite:///{fresh / 'abis.db'}"
        done = subprocess.run([".venv/bin/abis", "db", "backup", str(fresh / "abis.db")],
                              env=service.env, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
    else:
        url = make_url(database_url)
        name = f"{url.database}_restored"
        dump = tmp_path / "abis.dump"
        subprocess.run(["pg_dump", "-Fc", "-h", url.host or "127.0.0.1", "-U",
                        url.username or "postgres", "-f", str(dump), url.database or ""],
                       check=True)
        subprocess.run(["createdb", "-h", url.host or "127.0.0.1", "-U",
                        url.username or "postgres", name], check=True)
        subprocess.run(["pg_restore", "-h", url.host or "127.0.0.1", "-U",
                        url.username or "postgres", "-d", name, str(dump)], check=True)
        target = url.set(database=name).render_as_string(hide_password=False)
    restored = RunningService(service_env(fresh, target), free_port())
    restored.start()
    try:
        assert _search_answers(restored, people) == original
    finally:
        restored.stop()
        if not database_url.startswith("sqlite:///"):
            admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
