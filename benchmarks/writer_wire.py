"""What handing a transmission to a remote writer costs, against the work it takes off the writer.

Per transmission, in one run, on the same synthetic requests (median of rounds, microseconds):
- prepare: what the API worker does (rules, base64 decode, template checks, quality, sealing)
- to_wire: the worker encodes the prepared transmission (writer protocol)
- from_wire: the writer decodes it (no base64, no template check: the templates arrive raw)
- redecode: what the writer would spend if it decoded and checked the templates again

    .venv/bin/python benchmarks/writer_wire.py --transmissions 2000 --rounds 3
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from schemas.codes import Role  # noqa: E402
from schemas.transmission import TransmissionRequest  # noqa: E402
from service.audit.events import RequestAudit  # noqa: E402
from service.auth import Caller  # noqa: E402
from service.crypto import MasterKey  # noqa: E402
from service.runtime import matcher_config  # noqa: E402
from service.settings import Settings  # noqa: E402
from service.transmission.prepare import PreparedTransmission, prepare  # noqa: E402
from service.transmission.templates import checked_templates, decode_biometrics  # noqa: E402
from service.writer import wire  # noqa: E402
from service.writer.commands import Transmit  # noqa: E402
from service.writer.protocol import writer_pb2 as pb  # noqa: E402
from service.writer.remote_commands import command_builder  # noqa: E402
from tests.factories import new_person_seed, transmission  # noqa: E402

CONFIG = matcher_config(Settings())
MASTER = MasterKey(os.urandom(32))
CALLER = Caller("kIT", "IT", "unit", Role.OFFICER)


def _per_item(items: list[object], step: Callable[[object], object], rounds: int) -> float:
    """Median over rounds of the microseconds per item."""
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        for item in items:
            step(item)
        timings.append((time.perf_counter() - started) / len(items) * 1e6)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--transmissions", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    requests = [TransmissionRequest.model_validate(transmission("IT", 2, person=new_person_seed()))
                for _ in range(args.transmissions)]
    now, skew = dt.datetime.now(dt.UTC), dt.timedelta(minutes=5)

    def prepare_one(request: object) -> PreparedTransmission:
        assert isinstance(request, TransmissionRequest)
        return prepare(request, CALLER, now=now, skew=skew, config=CONFIG, master=MASTER)

    jobs = [prepare_one(request) for request in requests]

    def audit() -> RequestAudit:
        return RequestAudit("r", "POST", "h", route="/v1/transmissions", caller=CALLER)

    def to_wire(job: object) -> bytes:
        assert isinstance(job, PreparedTransmission)
        return wire.work_to_pb(Transmit(job, audit()), urgent=False).SerializeToString()

    build = command_builder(MASTER)
    messages = [to_wire(job) for job in jobs]

    def from_wire(message: object) -> object:
        assert isinstance(message, bytes)
        return wire.work_from_pb(pb.WorkRequest.FromString(message), build)

    def redecode(request: object) -> object:
        assert isinstance(request, TransmissionRequest)
        fingers, face = decode_biometrics(request.biometrics, CONFIG)
        return checked_templates(fingers, face, CONFIG)

    figures = {
        "prepare_us": _per_item(list(requests), prepare_one, args.rounds),
        "to_wire_us": _per_item(list(jobs), to_wire, args.rounds),
        "from_wire_us": _per_item(list(messages), from_wire, args.rounds),
        "redecode_us": _per_item(list(requests), redecode, args.rounds),
        "message_bytes": statistics.median(len(message) for message in messages),
    }
    record = {"date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
              "command": "benchmarks/writer_wire.py " + " ".join(sys.argv[1:]),
              "load_average": os.getloadavg(), "per_transmission": figures}
    for name, value in figures.items():
        print(f"{name:>14}: {value:10.1f}")
    target = args.json or Path(__file__).parent / "results" / "writer-wire.json"
    target.write_text(json.dumps(record, indent=1) + "\n")
    print(f"written {target}")


if __name__ == "__main__":
    main()
