"""Work items and their results to writer-protocol messages and back.

The API worker has already checked, decoded and sealed a transmission: what travels is the
request without its biometrics, the decoded templates (raw float32), the eligibility and the
sealed dataset, so the writer decodes and checks nothing twice. Lifecycle commands travel as a
kind and JSON arguments (`Command.spec`) and are rebuilt by the writer (`remote_commands`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import orjson
from pydantic import BaseModel

from schemas.codes import Category, Role
from schemas.lifecycle import LifecycleResult
from schemas.transmission import TransmissionRequest
from service import errors
from service.audit.events import Operation, RequestAudit
from service.auth import Caller
from service.crypto import Sealed
from service.rules.categories import rule_for
from service.shard import codec
from service.shard.protocol import shard_pb2
from service.transmission.outcome import MatchedDataset, TransmissionOutcome
from service.transmission.prepare import PreparedTransmission
from service.writer.commands import Command, RecordOnly, Transmit, WorkItem, WorkResult
from service.writer.protocol import writer_pb2 as pb


class WireError(ValueError):
    """A message that does not describe valid work (a bug or a foreign client)."""


def caller_to_pb(caller: Caller) -> pb.Caller:
    return pb.Caller(key_id=caller.key_id, member_state=caller.member_state, unit=caller.unit,
                     role=caller.role.value)


def caller_from_pb(message: pb.Caller) -> Caller:
    return Caller(message.key_id, message.member_state, message.unit, Role(message.role))


def audit_to_json(audit: RequestAudit) -> bytes:
    return orjson.dumps({
        "request_id": audit.request_id, "method": audit.method,
        "client_hash": audit.client_hash, "route": audit.route,
        "caller": None if audit.caller is None else dataclasses.asdict(audit.caller),
        "presented_key_id": audit.presented_key_id, "user_id": audit.user_id,
        "purpose": audit.purpose, "reference_numbers": audit.reference_numbers,
        "member_states": sorted(audit.member_states), "outcome": audit.outcome,
        "probe_hmac": audit.probe_hmac, "problem": audit.problem,
        "keep_until": audit.keep_until, "written": audit.written,
        "operation": audit.operation,
    })


def audit_from_json(data: bytes, into: RequestAudit | None = None) -> RequestAudit:
    """The audit facts; with `into`, copied onto that object (the request's own record)."""
    facts = orjson.loads(data)
    caller = facts["caller"]
    audit = into or RequestAudit(facts["request_id"], facts["method"], facts["client_hash"])
    audit.route = facts["route"]
    named = facts.get("operation")  # named by the API worker (its route's row, its use case)
    audit.operation = None if named is None else Operation(named)
    audit.caller = None if caller is None else Caller(
        caller["key_id"], caller["member_state"], caller["unit"], Role(caller["role"]))
    audit.presented_key_id = facts["presented_key_id"]
    audit.user_id = facts["user_id"]
    audit.purpose = facts["purpose"]
    audit.reference_numbers = list(facts["reference_numbers"])
    audit.member_states = set(facts["member_states"])
    audit.outcome = dict(facts["outcome"])
    audit.probe_hmac = facts["probe_hmac"]
    audit.problem = facts["problem"]
    keep = facts["keep_until"]
    audit.keep_until = None if keep is None else dt.date.fromisoformat(keep)
    audit.written = bool(facts["written"])
    return audit


def _transmission_to_pb(job: PreparedTransmission) -> pb.Transmission:
    request = job.request.model_dump(mode="json", exclude={"biometrics"})
    sealed = job.sealed
    return pb.Transmission(
        request=orjson.dumps(request),
        templates=codec.templates_to_pb(job.templates).SerializeToString(),
        eligibility=b"" if job.eligibility is None
        else codec.eligibility_to_pb(job.eligibility).SerializeToString(),
        transmitted_at=job.transmitted_at.isoformat(),
        retention_until="" if job.retention_until is None else job.retention_until.isoformat(),
        late=job.late,
        sealed=None if sealed is None else pb.Sealed(
            wrapped_key=sealed.wrapped_key, key_id=sealed.key_id, nonce=sealed.nonce,
            ciphertext=sealed.ciphertext),
    )


def _transmission_from_pb(message: pb.Transmission, caller: Caller) -> PreparedTransmission:
    # The biometrics were decoded into `templates` by the API worker; the request object the
    # writer keeps (for the dataset's details and the statistics) goes without them.
    request = TransmissionRequest.model_validate(orjson.loads(message.request)
                                                 | {"biometrics": {}})
    rule = rule_for(request.category, request.admission_decision)
    templates = codec.templates_from_pb(shard_pb2.Templates.FromString(message.templates))
    eligibility = None if not message.eligibility else codec.eligibility_from_pb(
        shard_pb2.Eligibility.FromString(message.eligibility))
    sealed = None
    if message.HasField("sealed"):
        s = message.sealed
        sealed = Sealed(s.wrapped_key, s.key_id, s.nonce, s.ciphertext)
    if rule.stored != (sealed is not None and bool(message.retention_until)):
        raise WireError("a stored category needs its sealed dataset and retention, and only it")
    return PreparedTransmission(
        request=request, caller=caller, rule=rule, templates=templates,
        eligibility=eligibility,
        transmitted_at=dt.datetime.fromisoformat(message.transmitted_at),
        retention_until=dt.date.fromisoformat(message.retention_until)
        if message.retention_until else None,
        late=message.late, sealed=sealed,
    )


def work_to_pb(item: WorkItem, urgent: bool) -> pb.WorkRequest:
    audit = b"" if item.audit is None else audit_to_json(item.audit)
    if isinstance(item, Transmit):
        return pb.WorkRequest(urgent=urgent, caller=caller_to_pb(item.job.caller), audit=audit,
                              transmit=_transmission_to_pb(item.job))
    if isinstance(item, RecordOnly):
        return pb.WorkRequest(urgent=urgent, audit=audit, record_status=item.status)
    if item.spec is None:
        raise WireError("this command cannot run in a remote writer (it has no spec)")
    kind, arguments, caller = item.spec
    return pb.WorkRequest(urgent=urgent, audit=audit, caller=caller_to_pb(caller),
                          command=pb.Lifecycle(kind=kind, arguments=orjson.dumps(arguments)))


def work_from_pb(message: pb.WorkRequest, build_command: Any) -> WorkItem:
    """`build_command(kind, arguments, caller, audit)` rebuilds a lifecycle command."""
    audit = audit_from_json(message.audit) if message.audit else None
    kind = message.WhichOneof("work")
    try:
        if kind == "transmit":
            return Transmit(_transmission_from_pb(message.transmit,
                                                  caller_from_pb(message.caller)), audit)
        if kind == "record_status":
            if audit is None:
                raise WireError("a record without audit facts")
            return RecordOnly(audit, message.record_status)
        if kind == "command":
            command: Command = build_command(message.command.kind,
                                             orjson.loads(message.command.arguments),
                                             caller_from_pb(message.caller), audit)
            return command
    except (KeyError, TypeError, ValueError) as error:
        raise WireError(f"malformed work: {type(error).__name__}") from None
    raise WireError("a work request without work")


# --- results -------------------------------------------------------------------------------


def _outcome_to_json(outcome: TransmissionOutcome) -> bytes:
    return orjson.dumps(outcome)  # dataclasses, dates and enums natively


def _outcome_from_json(data: bytes) -> TransmissionOutcome:
    raw = orjson.loads(data)
    matches = tuple(
        MatchedDataset(
            hit_id=m["hit_id"], dataset_id=m["dataset_id"],
            reference_number=m["reference_number"], member_state=m["member_state"],
            category=Category(m["category"]), marked=m["marked"],
            taken_at=dt.datetime.fromisoformat(m["taken_at"]),
            transmitted_at=dt.datetime.fromisoformat(m["transmitted_at"]),
            event_date=None if m["event_date"] is None
            else dt.date.fromisoformat(m["event_date"]),
            score=m["score"], modality=m["modality"], fingers_compared=m["fingers_compared"],
            retention_until=dt.date.fromisoformat(m["retention_until"]), details=m["details"],
        )
        for m in raw["matches"]
    )
    return TransmissionOutcome(matches, raw["dataset_id"], raw["sequence_id"])


def _value_to_json(value: object) -> bytes:
    if isinstance(value, LifecycleResult):
        return orjson.dumps({"lifecycle": value.model_dump(mode="json")})
    if isinstance(value, BaseModel):
        raise WireError(f"no wire form for {type(value).__name__}")
    return orjson.dumps({"plain": value})


def _value_from_json(data: bytes) -> object:
    raw = orjson.loads(data)
    if "lifecycle" in raw:
        return LifecycleResult.model_validate(raw["lifecycle"])
    return raw["plain"]


def _error_classes() -> dict[str, type[errors.ServiceError]]:
    found: dict[str, type[errors.ServiceError]] = {}
    pending: list[type[errors.ServiceError]] = [errors.ServiceError]
    while pending:
        cls = pending.pop()
        found[cls.__name__] = cls
        pending.extend(cls.__subclasses__())
    return found


def result_to_pb(item: WorkItem, result: WorkResult | BaseException) -> pb.WorkReply:
    audit = b"" if item.audit is None else audit_to_json(item.audit)
    if isinstance(result, errors.ServiceError):
        return pb.WorkReply(audit=audit, problem=pb.Problem(
            kind=type(result).__name__, detail=result.detail,
            context=orjson.dumps(result.context, default=str)))
    if isinstance(result, BaseException):
        raise result
    if isinstance(item, Transmit):
        assert isinstance(result, TransmissionOutcome)
        return pb.WorkReply(audit=audit, outcome=_outcome_to_json(result))
    if isinstance(item, RecordOnly):
        return pb.WorkReply(audit=audit, recorded=True)
    return pb.WorkReply(audit=audit, value=_value_to_json(result))


def result_from_pb(message: pb.WorkReply, audit: RequestAudit | None
                   ) -> WorkResult | errors.ServiceError:
    """The result (or the refusal, as the ServiceError the writer raised); the request's audit
    record takes the facts the writer added (what it concerned, whether it is written)."""
    if audit is not None and message.audit:
        audit_from_json(message.audit, into=audit)
    kind = message.WhichOneof("result")
    if kind == "problem":
        problem = message.problem
        cls = _error_classes().get(problem.kind, errors.ServiceError)
        context = orjson.loads(problem.context) if problem.context else {}
        return cls(problem.detail, **context)
    if kind == "outcome":
        return _outcome_from_json(message.outcome)
    if kind == "value":
        return _value_from_json(message.value)
    return None
