"""What the audit log costs: transmissions per second with audit on and off, in one run.

Each run builds a fresh service (SQLite file, synchronous=FULL) in a temporary directory and
sends the same transmissions through the whole ASGI stack (middleware, auth, rules, matcher,
store, audit) with a fixed number in flight; runs alternate off/on to cancel drift.

    .venv/bin/python benchmarks/audit_cost.py --transmissions 2000 --in-flight 32 --rounds 2
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from schemas.codes import Role  # noqa: E402
from service.api.app import create_app  # noqa: E402
from service.audit.keys import generate_audit_key_file  # noqa: E402
from service.auth import issue_key  # noqa: E402
from service.crypto.master_key import generate_key_file  # noqa: E402
from service.logging_setup import configure_logging  # noqa: E402
from service.runtime import Runtime  # noqa: E402
from service.settings import Settings  # noqa: E402
from service.store.database import make_engine  # noqa: E402
from service.store.schema import upgrade  # noqa: E402
from tests.factories import transmission  # noqa: E402

STATES = ["IT", "DE", "FR", "ES", "GR", "AT"]


def bodies(count: int) -> list[dict[str, object]]:
    """Every third transmission is a person seen before, so there are hits to record."""
    made = []
    for index in range(count):
        person = index // 3 if index % 3 == 2 else 10_000 + index
        state = STATES[index % len(STATES)]
        made.append(transmission(state, 1 if index % 2 else 2, person=person, capture=index))
    return made


async def run(audit: bool, payloads: list[dict[str, object]], in_flight: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder)
        generate_key_file(data / "master.key")
        generate_audit_key_file(data / "audit.key")
        settings = Settings(data_dir=data, master_key_file=data / "master.key",
                            audit_key_file=data / "audit.key")
        upgrade(make_engine(settings.effective_database_url))
        runtime = Runtime.build(settings, audit=audit)
        app = create_app(settings, runtime)
        app.state.runtime = runtime
        runtime.start()
        runtime.ready.wait(60)
        keys = {}
        with runtime.sessions.begin() as session:
            for state in STATES:
                keys[state] = issue_key(session, member_state=state, role=Role.OFFICER,
                                        now=dt.datetime.now(dt.UTC)).key
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            queue: asyncio.Queue[dict[str, object]] = asyncio.Queue()
            for payload in payloads:
                queue.put_nowait(payload)
            statuses: list[int] = []

            async def worker() -> None:
                while not queue.empty():
                    payload = queue.get_nowait()
                    state = str(payload["reference_number"])[:2]
                    answer = await client.post("/v1/transmissions", json=payload,
                                               headers={"Authorization": f"Bearer {keys[state]}"})
                    statuses.append(answer.status_code)

            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(in_flight)))
            elapsed = time.perf_counter() - started
        batches, items = runtime.pipeline.batches, runtime.pipeline.items
        runtime.stop()
        bad = [status for status in statuses if status not in (200, 201)]
        if bad:
            raise SystemExit(f"unexpected statuses: {sorted(set(bad))}")
        return {"per_second": len(payloads) / elapsed, "commits": batches,
                "items_per_commit": items / batches}


def main() -> None:
    configure_logging("WARNING")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transmissions", type=int, default=2000)
    parser.add_argument("--in-flight", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", type=Path)
    options = parser.parse_args()
    payloads = bodies(options.transmissions)
    results: dict[str, list[dict[str, float]]] = {"off": [], "on": []}
    for round_ in range(options.rounds):
        for label, audit in (("off", False), ("on", True)):
            outcome = asyncio.run(run(audit, payloads, options.in_flight))
            results[label].append(outcome)
            print(f"round {round_ + 1} audit {label:>3}: {outcome['per_second']:8.1f} "
                  f"transmissions/s, {outcome['commits']:.0f} commits "
                  f"({outcome['items_per_commit']:.1f} items each)", flush=True)
    off = statistics.mean(r["per_second"] for r in results["off"])
    on = statistics.mean(r["per_second"] for r in results["on"])
    print(f"\naudit off {off:.1f}/s, audit on {on:.1f}/s: audit on runs at {on / off:.2f}x "
          f"({(1 - on / off) * 100:.1f}% cost); {options.transmissions} transmissions, "
          f"{options.in_flight} in flight")
    if options.json:
        options.json.write_text(json.dumps({"off": results["off"], "on": results["on"],
                                            "ratio": on / off}, indent=2))


if __name__ == "__main__":
    main()
