"""Locust scenarios for abis: who uses the service, how often, and what a correct answer is.

- BorderOfficer: transmissions of every category an officer sends, in Eurodac-like
  proportions, a realistic share of them mated probes (fresh captures of gallery persons).
- LawEnforcement: category-4 searches with purpose and case number.
- Supervisor: audit queries and monthly statistics (reads only, never biometrics).
- Operator: a small bulk load of new datasets now and then (NDJSON in, NDJSON out).
- Misbehaver: bad input of every kind; each must get a 4xx problem, never a 5xx or a 2xx.

Run it through `python -m loadtests.run` (it starts the service and makes the keys); it
passes its settings in ABIS_LOADTEST_* variables:
  ABIS_LOADTEST_KEYS     JSON file {"officer": {"IT": key, ...}, "supervisor": key, ...}
  ABIS_LOADTEST_PERSONS  gallery persons the mated probes are drawn from
  ABIS_LOADTEST_TALLY    where to write status codes per request name and hit shares at the end
  ABIS_LOADTEST_MIX      users of the side roles, e.g. "police=1,supervisor=1,operator=1,bad=1"
                         (these many each; every other user is a border officer)
  ABIS_LOADTEST_WAIT     seconds an officer waits between transmissions (default 0: closed loop)
  ABIS_LOADTEST_PACING   seconds between the starts of an officer's transmissions (an offered
                         rate, whatever the answer time; set by `run.py --rate`, beats WAIT)
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import random
import threading
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import orjson
from locust import between, constant, constant_pacing, events, task
from locust.contrib.fasthttp import FastHttpUser

from loadtests.mix import side_roles
from loadtests.synthetic import (
    LAW_ENFORCEMENT_TRAFFIC,
    MEMBER_STATES,
    OFFICER_TRAFFIC,
    STRANGER_SEED,
    Probes,
    ReferenceNumbers,
    Traffic,
    transmission,
)
from schemas.audit import AuditEventPage
from schemas.bulk import BulkItem, BulkItemResult, BulkSummary
from schemas.lifecycle import StatisticsReport
from schemas.problem import Problem
from schemas.transmission import TransmissionResult

_KEYS: dict[str, Any] = (
    orjson.loads(Path(os.environ["ABIS_LOADTEST_KEYS"]).read_bytes())
    if os.environ.get("ABIS_LOADTEST_KEYS") else {}
)
_PERSONS = int(os.environ.get("ABIS_LOADTEST_PERSONS", "0"))
_WAIT = float(os.environ.get("ABIS_LOADTEST_WAIT", "0"))
_PACING = float(os.environ.get("ABIS_LOADTEST_PACING", "0"))
_MIX = side_roles(os.environ.get("ABIS_LOADTEST_MIX", ""))
_JSON = {"content-type": "application/json"}
_PROBLEM_JSON = "application/problem+json"

# Tallies written at the end: status codes per request name, and hits per category/mated.
_lock = threading.Lock()
_status: dict[str, Counter[int]] = defaultdict(Counter)
_hits: dict[str, Counter[str]] = defaultdict(Counter)
_failures: Counter[str] = Counter()


@events.request.add_listener
def _count_status(name: str, response: Any = None, exception: Any = None, **_: Any) -> None:
    code = getattr(response, "status_code", 0) or 0
    with _lock:
        _status[name][int(code)] += 1
        if exception is not None:
            _failures[f"{name}: {str(exception)[:120]}"] += 1


@events.quitting.add_listener
def _write_tally(**_: Any) -> None:
    target = os.environ.get("ABIS_LOADTEST_TALLY")
    if target:
        Path(target).write_bytes(orjson.dumps(
            {"status": {name: dict(codes) for name, codes in _status.items()},
             "hits": {name: dict(counts) for name, counts in _hits.items()},
             "failures": dict(_failures)},
            option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS | orjson.OPT_SORT_KEYS,
        ))


def _left_out(role: str) -> bool:
    """A side role given no users is made abstract: locust reads a fixed_count of 0 as "not
    fixed" and spreads the class by weight beside the officers (`--mix operator=0` once made
    half the users operators and halved the offered rate)."""
    return _MIX[role] == 0


def _auth(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


class _Transmitter(FastHttpUser):
    abstract = True
    traffic: tuple[Traffic, ...] = OFFICER_TRAFFIC
    role = "officer"

    def on_start(self) -> None:
        keys: dict[str, str] = _KEYS[self.role]
        self.member_state = random.choice(sorted(keys))
        self.headers = {**_JSON, **_auth(keys[self.member_state])}
        self.probes = Probes(_PERSONS)

    def transmit(self) -> None:
        kind = self.probes.pick(self.traffic)
        body, mated = self.probes.body(self.member_state, kind)
        name = "POST /v1/transmissions"
        with self.client.post("/v1/transmissions", data=body, headers=self.headers, name=name,
                              catch_response=True) as response:
            if response.status_code not in (200, 201):
                response.failure(f"status {response.status_code}: {response.text[:200]}")
                return
            result = TransmissionResult.model_validate_json(response.content)
            response.success()
        with _lock:
            _hits[f"cat {kind.category}"][
                f"{'mated' if mated else 'non-mated'} {result.result.value}"] += 1


class BorderOfficer(_Transmitter):
    """A Member State's border or asylum officer transmitting datasets."""

    weight = 1  # everyone the fixed counts below leave
    wait_time = constant_pacing(_PACING) if _PACING else constant(_WAIT)

    @task
    def send(self) -> None:
        self.transmit()


class LawEnforcement(_Transmitter):
    """A designated authority's search (category 4): purpose and case number, never stored."""

    fixed_count = _MIX["police"]
    abstract = _left_out("police")
    wait_time = between(0.5, 1.5)
    traffic = LAW_ENFORCEMENT_TRAFFIC
    role = "law_enforcement"

    @task
    def search(self) -> None:
        self.transmit()


class Supervisor(FastHttpUser):
    """A data-protection supervisor reading the audit log and the monthly statistics."""

    fixed_count = _MIX["supervisor"]
    abstract = _left_out("supervisor")
    wait_time = between(0.5, 2.0)

    def on_start(self) -> None:
        self.headers = _auth(_KEYS["supervisor"])

    def _get(self, path: str, name: str, model: Any, **params: Any) -> None:
        with self.client.get(path, headers=self.headers, params=params, name=name,
                             catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}: {response.text[:200]}")
                return
            model.model_validate_json(response.content)
            response.success()

    @task(3)
    def audit_events(self) -> None:
        since = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)).isoformat()
        self._get("/v1/audit/events", "GET /v1/audit/events", AuditEventPage,
                  member_state=random.choice(MEMBER_STATES), since=since, limit=100)

    @task(1)
    def audit_by_operation(self) -> None:
        self._get("/v1/audit/events", "GET /v1/audit/events [operation]", AuditEventPage,
                  operation="dataset:transmit", limit=50)

    @task(1)
    def statistics(self) -> None:
        month = dt.datetime.now(dt.UTC).strftime("%Y-%m")
        self._get("/v1/statistics", "GET /v1/statistics", StatisticsReport, month=month)


_bulk_persons = itertools.count()


class Operator(FastHttpUser):
    """An operator loading a small batch of new datasets through the bulk endpoint."""

    fixed_count = _MIX["operator"]
    abstract = _left_out("operator")
    wait_time = between(5, 10)
    chunk = 50

    def on_start(self) -> None:
        self.headers = {"content-type": "application/x-ndjson", **_auth(_KEYS["operator"])}
        self.references = ReferenceNumbers()

    @task
    def bulk_load(self) -> None:
        lines = []
        for _ in range(self.chunk):
            member_state = random.choice(MEMBER_STATES)
            category = random.choice((1, 2, 3, 9))
            person = STRANGER_SEED // 2 + random.randrange(10**9)
            body = transmission(member_state, category, person, 1,
                                self.references.next(member_state, category))
            lines.append(BulkItem(member_state=member_state, transmission=body)
                         .model_dump_json(exclude_defaults=True).encode())
        with self.client.post("/v1/bulk/transmissions", data=b"\n".join(lines) + b"\n",
                              headers=self.headers, name="POST /v1/bulk/transmissions",
                              catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}: {response.text[:200]}")
                return
            answer = [orjson.loads(line) for line in response.content.splitlines() if line]
            if not answer or answer[-1].get("kind") != "summary":
                response.failure("bulk answer cut short (no summary line)")
                return
            summary = BulkSummary.model_validate(answer[-1])
            items = [BulkItemResult.model_validate(line) for line in answer[:-1]]
            if summary.items != self.chunk or len(items) != self.chunk or summary.refused:
                response.failure(f"bulk summary {summary.model_dump()}")
                return
            response.success()


def _bad_cases(member_state: str, officer: str, supervisor: str
               ) -> list[tuple[str, str, dict[str, str], bytes, tuple[int, ...]]]:
    """(method, path, headers, body, acceptable 4xx statuses) of a client that gets it wrong;
    `officer` is a key of `member_state`."""
    good = transmission(member_state, 2, STRANGER_SEED + 1, 1,
                        f"{member_state}2BADCLIENT0001").model_dump(mode="json")
    elsewhere = next(ms for ms in MEMBER_STATES if ms != member_state)
    short = dict(good, biometrics={"fingers": {"1": "AAAAAAAAAAA="}})
    nan = dict(good, biometrics={"fingers": {"1": "AADAfw==" * 128}})
    bad_b64 = dict(good, biometrics={"fingers": {"1": "%%%not-base64%%%"}})
    wrong_finger = dict(good, biometrics={"fingers": {"11": good["biometrics"]["fingers"]["1"]}})
    foreign = dict(good, reference_number=f"{elsewhere}2BADCLIENT0002")
    future = dict(good, taken_at=(dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).isoformat())
    unknown_category = dict(good, category=11)
    extra = dict(good, surprise=True)
    police_without_purpose = dict(good, category=4)
    auth = {**_JSON, **_auth(officer)}
    huge = b'{"reference_number": "' + b"A" * 300_000 + b'"}'
    return [
        ("POST", "/v1/transmissions", auth, b"{not json", (400, 422)),
        ("POST", "/v1/transmissions", auth, b"[]", (422,)),
        ("POST", "/v1/transmissions", auth, b"{}", (422,)),
        ("POST", "/v1/transmissions", auth, orjson.dumps(short), (422,)),
        ("POST", "/v1/transmissions", auth, orjson.dumps(nan), (422,)),
        ("POST", "/v1/transmissions", auth, orjson.dumps(bad_b64), (422,)),
        ("POST", "/v1/transmissions", auth, orjson.dumps(wrong_finger), (422,)),
        ("POST", "/v1/transmissions", auth, orjson.dumps(foreign), (403, 422)),
        ("POST", "/v1/transmissions", auth, orjson.dumps(future), (422,)),
        ("POST", "/v1/transmissions", auth, orjson.dumps(unknown_category), (422,)),
        ("POST", "/v1/transmissions", auth, orjson.dumps(extra), (422,)),
        ("POST", "/v1/transmissions", auth, orjson.dumps(police_without_purpose), (403, 422)),
        ("POST", "/v1/transmissions", auth, huge, (413,)),
        ("POST", "/v1/transmissions", _JSON, orjson.dumps(good), (401,)),
        ("POST", "/v1/transmissions", {**_JSON, **_auth("abis_nokey_secret")},
         orjson.dumps(good), (401,)),
        ("POST", "/v1/transmissions", {**_JSON, **_auth(supervisor)}, orjson.dumps(good),
         (403,)),
        ("GET", "/v1/audit/events", _auth(officer), b"", (403,)),
        ("GET", "/v1/audit/events?limit=100000", _auth(supervisor), b"", (422,)),
        ("GET", "/v1/statistics?month=last-year", _auth(supervisor), b"", (422,)),
        ("GET", "/v1/datasets/XX0NOSUCHDATASET", _auth(officer), b"", (404, 422)),
        ("GET", "/v1/no/such/route", _auth(officer), b"", (404,)),
        ("DELETE", "/v1/transmissions", _auth(officer), b"", (405,)),
    ]


class Misbehaver(FastHttpUser):
    """A client that gets everything wrong: it must get 4xx problems, never a 5xx."""

    fixed_count = _MIX["bad"]
    abstract = _left_out("bad")
    wait_time = between(0.2, 0.8)

    def on_start(self) -> None:
        member_state, officer = random.choice(sorted(_KEYS["officer"].items()))
        self.cases = _bad_cases(member_state, officer, _KEYS["supervisor"])

    @task
    def misbehave(self) -> None:
        method, path, headers, body, expected = random.choice(self.cases)
        with self.client.request(method, path, headers=headers, data=body or None,
                                 name="bad input (4xx expected)",
                                 catch_response=True) as response:
            code = response.status_code
            if code not in expected:
                response.failure(f"{method} {path}: {code}, expected {expected}")
                return
            kind = response.headers.get("content-type", "")
            if not kind.startswith(_PROBLEM_JSON):
                response.failure(f"{method} {path}: {code} without a problem body ({kind})")
                return
            Problem.model_validate_json(response.content)
            response.success()
