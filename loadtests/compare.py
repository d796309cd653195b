"""The A/B of one run: `abis serve` against `abis serve --workers N`, same gallery, same
machine, one after the other; the ratios are what holds up on a shared machine."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.1f} {five:.1f} {fifteen:.1f} on {os.cpu_count()} cores"


def write_comparison(args: argparse.Namespace, out: Path,
                     results: dict[int, dict[str, float]]) -> Path:
    base_workers = min(results)
    base = results[base_workers]
    lines = ["| server | transmissions/s | p50 ms | p95 ms | p99 ms | service cores | "
             "CPU ms/request | x transmissions/s |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for workers, figures in results.items():
        name = "abis serve" if workers == 0 else f"abis serve --workers {workers}"
        ratio = figures["transmissions_per_s"] / max(base["transmissions_per_s"], 1e-9)
        lines.append(
            f"| {name} | {figures['transmissions_per_s']:.1f} | "
            f"{figures['transmission_p50_ms']:.0f} | {figures['transmission_p95_ms']:.0f} | "
            f"{figures['transmission_p99_ms']:.0f} | {figures['service_cores']:.2f} | "
            f"{figures['cpu_ms_per_request']:.2f} | {ratio:.2f} |")
    table = "\n".join(lines)
    record = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": f"python -m loadtests.run --gallery {args.gallery} --users {args.users} "
                   f"--duration {args.duration} --workers {args.workers}"
                   + (f" --mix {args.mix}" if args.mix else ""),
        "gallery": args.gallery, "load_average_after": _load(), "results": {
            str(workers): figures for workers, figures in results.items()},
    }
    results_dir = ROOT / "benchmarks" / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    target = results_dir / f"api-tier-{args.gallery}.json"
    target.write_text(json.dumps(record, indent=1) + "\n")
    (out / "comparison.md").write_text(f"{record['command']}\n\n{table}\n\nload average "
                                       f"afterwards: {record['load_average_after']}\n")
    print(table)
    print(f"comparison: {out}/comparison.md, {target}")
    return target
