"""The writer protocol: committed generated code is current; work items, audit facts, results
and refusals cross it unchanged; the urgent flag reaches the writer's queue."""

from __future__ import annotations

import datetime as dt
import os
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from schemas.codes import Category, Role
from schemas.lifecycle import LifecycleResult, MarkReason
from schemas.transmission import TransmissionRequest
from service.audit.events import Operation, RequestAudit
from service.auth import Caller
from service.crypto import MasterKey
from service.errors import DuplicateReferenceNumber
from service.lifecycle.changes import set_mark
from service.runtime import matcher_config
from service.settings import Settings
from service.transmission.outcome import MatchedDataset, TransmissionOutcome
from service.transmission.prepare import prepare
from service.writer import wire
from service.writer.commands import Command, RecordOnly, Transmit, WorkItem, WorkResult
from service.writer.remote_commands import command_builder
from service.writer.server import WriterService
from tests.factories import new_person_seed, transmission

PROTOCOL = Path(__file__).resolve().parents[2] / "service" / "writer" / "protocol"
MASTER = MasterKey(os.urandom(32))
CALLER = Caller("kIT", "IT", "unit", Role.OFFICER)


def test_generated_code_is_up_to_date(tmp_path: Path) -> None:
    protoc = pytest.importorskip("grpc_tools.protoc")
    status = protoc.main(["protoc", f"-I{PROTOCOL}", f"--python_out={tmp_path}",
                          f"--pyi_out={tmp_path}", str(PROTOCOL / "writer.proto")])
    assert status == 0
    for name in ("writer_pb2.py", "writer_pb2.pyi"):
        assert (tmp_path / name).read_text() == (PROTOCOL / name).read_text(), (
            f"{name} is stale: run `make proto`")


def _audit() -> RequestAudit:
    audit = RequestAudit("r1", "POST", "h", route="/v1/transmissions", caller=CALLER,
                         operation=Operation.TRANSMIT)
    audit.concern("IT2X", "IT", dt.date(2030, 1, 2))
    audit.outcome = {"result": "hit"}
    audit.probe_hmac = "abc"
    return audit


def test_a_prepared_transmission_crosses_without_its_biometrics() -> None:
    body = TransmissionRequest.model_validate(
        transmission("IT", 2, person=new_person_seed()))
    job = prepare(body, CALLER, now=dt.datetime.now(dt.UTC), skew=dt.timedelta(minutes=5),
                  config=matcher_config(Settings()), master=MASTER)
    message = wire.work_to_pb(Transmit(job, _audit()), urgent=True)
    assert b"biometrics\":{\"fingers\":{\"" not in message.transmit.request
    item = wire.work_from_pb(message, command_builder(MASTER))
    assert isinstance(item, Transmit) and message.urgent
    back = item.job
    assert back.request == body.model_copy(update={"biometrics": back.request.biometrics})
    assert (back.caller, back.rule, back.eligibility, back.transmitted_at,
            back.retention_until, back.late, back.sealed) == (
        job.caller, job.rule, job.eligibility, job.transmitted_at, job.retention_until,
        job.late, job.sealed)
    assert back.templates.fingers.keys() == job.templates.fingers.keys()
    for position, vector in job.templates.fingers.items():
        assert np.array_equal(back.templates.fingers[position], vector)
    assert item.audit is not None and vars(item.audit) == vars(_audit())


def test_a_lifecycle_command_is_rebuilt_from_its_spec() -> None:
    command = set_mark("IT1X", MarkReason.INTERNATIONAL_PROTECTION, CALLER, _audit())
    item = wire.work_from_pb(wire.work_to_pb(command, urgent=False), command_builder(MASTER))
    assert isinstance(item, Command) and item.spec == command.spec


def test_results_and_refusals_cross_back() -> None:
    match = MatchedDataset(
        hit_id=1, dataset_id=2, reference_number="IT2X", member_state="IT",
        category=Category.IRREGULAR_CROSSING, marked=False,
        taken_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        transmitted_at=dt.datetime(2026, 1, 2, tzinfo=dt.UTC), event_date=dt.date(2025, 12, 30),
        score=1.5, modality="fingerprint", fingers_compared=10,
        retention_until=dt.date(2031, 1, 2), details={"person": {"sex": "X"}})
    outcome = TransmissionOutcome((match,), 3, 2)
    item: WorkItem = Transmit.__new__(Transmit)
    object.__setattr__(item, "audit", _audit())
    sent = RequestAudit("r1", "POST", "h")
    assert wire.result_from_pb(wire.result_to_pb(item, outcome), sent) == outcome
    assert sent.reference_numbers == ["IT2X"] and sent.outcome == {"result": "hit"}
    refused = wire.result_from_pb(wire.result_to_pb(item, DuplicateReferenceNumber(
        "already stored", reference_number="IT2X")), None)
    assert isinstance(refused, DuplicateReferenceNumber)
    assert (refused.detail, refused.context) == ("already stored", {"reference_number": "IT2X"})
    result = LifecycleResult(reference_number="IT1X", marked=True,
                             retention_until=dt.date(2031, 1, 1), sequence_id=4,
                             notified_member_states=["DE"])
    command = set_mark("IT1X", None, CALLER, None)
    assert wire.result_from_pb(wire.result_to_pb(command, result), None) == result
    record = RecordOnly(_audit(), 404)
    assert wire.result_from_pb(wire.result_to_pb(record, None), None) is None


class _Recorder:
    def __init__(self) -> None:
        self.urgent: list[bool] = []

    def submit(self, item: WorkItem, *, urgent: bool = False) -> Future[WorkResult]:
        self.urgent.append(urgent)
        done: Future[WorkResult] = Future()
        done.set_result(None)
        return done


class _Runtime:
    def __init__(self) -> None:
        self.master = MASTER
        self.pipeline = _Recorder()


def test_urgency_reaches_the_writers_queue_and_foreign_work_is_refused() -> None:
    runtime: Any = _Runtime()
    service = WriterService(runtime)
    for urgent in (True, False):
        service.submit(wire.work_to_pb(RecordOnly(_audit(), 200), urgent=urgent), None)
    assert runtime.pipeline.urgent == [True, False]

    class Aborted(Exception):
        pass

    class Context:
        def abort(self, code: object, detail: str) -> None:
            raise Aborted(detail)

    bad = wire.work_to_pb(RecordOnly(_audit(), 200), urgent=False)
    bad.command.kind = "drop-tables"
    bad.command.arguments = b"{}"
    with pytest.raises(Aborted, match="malformed work: ValueError"):
        service.submit(bad, Context())
    with pytest.raises(wire.WireError, match="no spec"):
        wire.work_to_pb(Command(lambda session, now: None, None), urgent=False)  # type: ignore[arg-type,return-value]
