"""A real abis server (uvicorn on a loopback port) in this process, so tests can move its clock
(session expiry) instead of sleeping, and a small synthetic population sent over HTTP."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import uvicorn

from schemas.codes import Role
from service.api.app import create_app
from service.audit.keys import generate_audit_key_file
from service.auth import issue_key
from service.clock import Clock
from service.crypto.master_key import generate_key_file
from service.runtime import Runtime
from service.settings import Settings
from tests.factories import new_person_seed, transmission
from tests.service_process import free_port


@dataclass
class ConsoleServer:
    url: str
    runtime: Runtime
    clock: Clock
    keys: dict[tuple[str, str], str] = field(default_factory=dict)

    def key(self, member_state: str, role: str = "officer") -> str:
        if (member_state, role) not in self.keys:
            with self.runtime.sessions() as session:
                issued = issue_key(session, member_state=member_state, role=Role(role),
                                   now=self.clock.now())
                session.commit()
            self.keys[(member_state, role)] = issued.key
        return self.keys[(member_state, role)]

    def client(self, member_state: str, role: str = "officer") -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, headers={
            "Authorization": f"Bearer {self.key(member_state, role)}"})


@contextmanager
def console_server(data_dir: Path) -> Iterator[ConsoleServer]:
    generate_key_file(data_dir / "master.key")
    generate_audit_key_file(data_dir / "audit.key")
    settings = Settings(
        dev=True,  # migrates the fresh database by itself; the keys above are real files
        data_dir=data_dir,
        master_key_file=data_dir / "master.key",
        audit_key_file=data_dir / "audit.key",
        audit_checkpoint_every=25,
        log_level="WARNING",
    )
    clock = Clock()
    runtime = Runtime.build(settings, clock=clock)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings, runtime), host="127.0.0.1",
                                          port=port, log_config=None, access_log=False))
    thread = threading.Thread(target=server.run, name="console-test-server", daemon=True)
    thread.start()
    running = ConsoleServer(f"http://127.0.0.1:{port}", runtime, clock)
    deadline = time.monotonic() + 60
    while not runtime.ready.is_set() or not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the console test server did not start")
        time.sleep(0.02)
    try:
        yield running
    finally:
        server.should_exit = True
        thread.join(30)


# (first Member State, category) -> (later Member State, category): hits that reveal movements.
JOURNEYS = [
    (("IT", 2), ("DE", 1)), (("IT", 2), ("DE", 1)), (("IT", 2), ("FR", 1)),
    (("GR", 2), ("DE", 1)), (("GR", 2), ("AT", 1)), (("ES", 9), ("FR", 1)),
    (("ES", 9), ("NL", 1)), (("IT", 9), ("DE", 3)), (("GR", 2), ("SE", 1)),
    (("HR", 2), ("AT", 3)),
]


@dataclass
class Population:
    reference_numbers: list[str]
    german_applicant: str  # a dataset that has a history (transmitted, hit, marked)
    month: str


def populate(server: ConsoleServer) -> Population:
    """Transmissions over HTTP: journeys with hits, a mark, a false hit, a quality refusal and
    a data-subject request, so every console page has something to show."""
    references: list[str] = []
    hit_ids: list[int] = []
    for (first, first_category), (later, later_category) in JOURNEYS:
        person = new_person_seed()
        for state, category, capture in ((first, first_category, 1),
                                         (later, later_category, 2)):
            body = transmission(state, category, person=person, capture=capture)
            with server.client(state) as client:
                answer = client.post("/v1/transmissions", json=body)
            assert answer.status_code == 201, answer.text
            references.append(body["reference_number"])
            hit_ids += [hit["hit_id"] for hit in answer.json()["hits"] if hit["hit_id"]]
    german = next(rn for rn in references if rn.startswith("DE1"))
    with server.client("DE") as germany:
        marked = germany.post(f"/v1/datasets/{german}/mark",
                              json={"reason": "international_protection"})
        assert marked.status_code == 200, marked.text
        assert germany.get(f"/v1/datasets/{german}").status_code == 200
        poor = transmission("DE", 1, person=new_person_seed(), quality=0.1)
        assert germany.post("/v1/transmissions", json=poor).status_code == 422
    with server.client("AT") as austria:
        reported = austria.post(f"/v1/hits/{hit_ids[4]}/false", json={"comment": "twins"})
        assert reported.status_code == 200, reported.text
    with server.client("FR") as france:
        request = transmission("FR", 6, person=new_person_seed())
        assert france.post("/v1/transmissions", json=request).status_code in (200, 201)
    month = dt.datetime.now(dt.UTC).strftime("%Y-%m")
    return Population(references, german, month)
