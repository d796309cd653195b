"""Bulk load throughput: datasets per second into a fresh service on the embedded default.

One run, on a real server (uvicorn subprocess, SQLite file, audit on) per measurement:
  1. stage costs in this process: parsing a bulk line, and `prepare` (rules, template checks,
     quality gate, AES-GCM sealing) per dataset: the ceiling of the event loop's share;
  2. baseline: the first --baseline datasets sent one per POST /v1/transmissions, --in-flight
     at a time, into a fresh service;
  3. the same datasets through `abis load` (bulk endpoint) into another fresh service;
  4. the whole dataset (--persons persons) through `abis load` into a fresh service, with the
     rate sampled along the way (the gallery grows, so does the comparison);
  5. with --ceiling, the engine's own batched search rate over a gallery of as many datasets
     as 4. stored (`loadtests.ceiling`), in the same run: what the load is compared with.

`--workers N` runs every service as `abis serve --workers N` (the API tier) instead of the
one-process default.

    .venv/bin/python benchmarks/bulk_load.py --persons 100000 --baseline 2000
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from loadtests.ceiling import engine_ceiling  # noqa: E402
from schemas.bulk import BulkItem  # noqa: E402
from schemas.codes import Role  # noqa: E402
from service.audit.keys import generate_audit_key_file  # noqa: E402
from service.auth import Caller  # noqa: E402
from service.crypto.master_key import generate_key_file, load_master_key  # noqa: E402
from service.errors import ServiceError  # noqa: E402
from service.runtime import matcher_config  # noqa: E402
from service.settings import Settings  # noqa: E402
from service.transmission.prepare import prepare  # noqa: E402
from tests.service_process import RunningService, free_port, service_env  # noqa: E402
from tooling.bulk.client import load  # noqa: E402
from tooling.synth.dataset import SynthOptions, generate, read_lines, read_manifest  # noqa: E402


def first_lines(directory: Path, count: int) -> list[bytes]:
    lines: list[bytes] = []
    for name in read_manifest(directory)["load"]:
        for line in read_lines(directory / "load" / name):
            if len(lines) == count:
                return lines
            lines.append(line)
    return lines


def stage_costs(lines: list[bytes], scratch: Path) -> dict[str, float]:
    generate_key_file(scratch / "stage.key")
    settings = Settings(master_key_file=scratch / "stage.key", data_dir=scratch)
    master, config = load_master_key(settings), matcher_config(settings)
    now = dt.datetime.now(dt.UTC)
    started = time.perf_counter()
    items = [BulkItem.model_validate_json(line) for line in lines]
    parsed = time.perf_counter()
    for item in items:
        assert item.member_state is not None
        caller = Caller("bench", item.member_state, "bench", Role.OPERATOR)
        with contextlib.suppress(ServiceError):  # refused for quality: the cost is still paid
            prepare(item.transmission, caller, now=now, skew=dt.timedelta(minutes=5),
                    config=config, master=master)
    done = time.perf_counter()
    return {"parse_us": 1e6 * (parsed - started) / len(lines),
            "prepare_us": 1e6 * (done - parsed) / len(lines)}


def forget_progress(dataset: Path) -> None:
    """A fresh service may get the port of an earlier one: start every load from scratch."""
    for path in dataset.glob(".load-progress-*.json"):
        path.unlink()


def fresh_service(root: Path, name: str, extra: dict[str, str], workers: int = 0
                  ) -> RunningService:
    data = root / name
    data.mkdir()
    generate_key_file(data / "master.key")
    generate_audit_key_file(data / "audit.key")
    service = RunningService(service_env(data, f"sqlite:///{data / 'abis.db'}", **extra),
                             free_port(), workers=workers)
    service.start()
    return service


async def single(url: str, keys: dict[str, str], lines: list[bytes], in_flight: int) -> float:
    queue = iter(lines)

    async def worker(client: httpx.AsyncClient) -> None:
        for line in queue:
            item = orjson.loads(line)
            answer = await client.post(
                "/v1/transmissions", content=orjson.dumps(item["transmission"]),
                headers={"Authorization": f"Bearer {keys[item['member_state']]}",
                         "content-type": "application/json"})
            assert answer.status_code in (200, 201, 409, 422), answer.text

    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=url, timeout=600) as client:
        await asyncio.gather(*(worker(client) for _ in range(in_flight)))
    return len(lines) / (time.perf_counter() - started)


def baseline(root: Path, dataset: Path, extra: dict[str, str], workers: int,
             lines: list[bytes], in_flight: int) -> dict[str, float]:
    """2. and 3.: the same datasets one request each, then through the bulk endpoint."""
    service = fresh_service(root, "single", extra, workers)
    try:
        states = {orjson.loads(line)["member_state"] for line in lines}
        keys = {state: service.key(state, "operator") for state in states}
        single_per_s = asyncio.run(single(service.url, keys, lines, in_flight))
    finally:
        service.stop()
    service = fresh_service(root, "bulk", extra, workers)
    forget_progress(dataset)
    try:
        started = time.perf_counter()
        load(dataset, service.url, service.key("EU", "operator"), limit=len(lines))
        bulk_per_s = len(lines) / (time.perf_counter() - started)
    finally:
        service.stop()
    return {"single_per_s": single_per_s, "bulk_same_per_s": bulk_per_s,
            "bulk_over_single": bulk_per_s / single_per_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--baseline", type=int, default=2000, help="datasets for 2. and 3.")
    parser.add_argument("--in-flight", type=int, default=32)
    parser.add_argument("--dataset", type=Path, help="reuse an `abis synth` directory")
    parser.add_argument("--env", action="append", default=[], help="ABIS_X=Y for the servers")
    parser.add_argument("--skip-full", action="store_true")
    parser.add_argument("--full-limit", type=int, help="load only the first N datasets in 4.")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--workers", type=int, default=0, help="abis serve --workers N")
    parser.add_argument("--skip-baseline", action="store_true", help="skip 2. and 3.")
    parser.add_argument("--ceiling", action="store_true",
                        help="5.: the engine's batched search rate at the loaded size")
    args = parser.parse_args()
    extra = dict(item.split("=", 1) for item in args.env)
    with tempfile.TemporaryDirectory(prefix="abis-bulk-bench-") as folder:
        root = Path(folder)
        figures: dict[str, object] = {"persons": args.persons, "env": extra,
                                      "workers": args.workers,
                                      "load_average_before": os.getloadavg()[0]}
        dataset = args.dataset or root / "synth"
        if args.dataset is None:
            started = time.perf_counter()
            generate(SynthOptions(persons=args.persons, mated_probes=0, non_mated_probes=0),
                     dataset)
            figures["synth_persons_per_s"] = args.persons / (time.perf_counter() - started)
        manifest = read_manifest(dataset)
        figures["persons"] = manifest["counts"]["persons"]
        figures["datasets"] = manifest["counts"]["encounters"]
        lines = first_lines(dataset, args.baseline)
        figures["stage_costs"] = stage_costs(lines, root)
        print(json.dumps(figures), flush=True)

        if not args.skip_baseline:
            figures |= baseline(root, dataset, extra, args.workers, lines, args.in_flight)
            print(json.dumps(figures), flush=True)

        if not args.skip_full:
            service = fresh_service(root, "full", extra, args.workers)
            forget_progress(dataset)
            samples: list[tuple[float, int]] = []
            loaded = 0
            started = time.perf_counter()

            def advance(count: int) -> None:
                nonlocal loaded
                loaded += count
                now = time.perf_counter() - started
                if not samples or now - samples[-1][0] >= 30:
                    samples.append((now, loaded))
                    if len(samples) > 1:
                        (t0, n0), (t1, n1) = samples[-2:]
                        print(f"  {t1:7.0f} s  {n1:8d} loaded  {(n1 - n0) / (t1 - t0):7.1f}/s",
                              flush=True)

            try:
                summary = load(dataset, service.url, service.key("EU", "operator"),
                               limit=args.full_limit, advance=advance)
            finally:
                service.stop()
            figures["full"] = summary.as_dict()
            figures["load_average_after"] = os.getloadavg()[0]
            if args.ceiling:
                ceiling = engine_ceiling(summary.stored, root / "ceiling.json")
                figures["engine_ceiling"] = ceiling
                figures["full_of_ceiling"] = (summary.as_dict()["datasets_per_second"]
                                              / ceiling["fast_batched_per_s"])
            figures["full_rate_samples"] = [
                {"seconds": round(b[0], 1), "loaded": b[1],
                 "per_s": round((b[1] - a[1]) / (b[0] - a[0]), 1)}
                for a, b in zip(samples, samples[1:], strict=False)]
        print(json.dumps(figures, indent=2))
        if args.json:
            args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
