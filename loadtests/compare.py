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
                     results: dict[int, dict[str, float]],
                     ceiling: dict[str, float] | None = None) -> Path:
    base_workers = min(results)
    base = results[base_workers]
    lines = ["| server | offered/s | transmissions/s | p50 ms | p95 ms | p99 ms | service cores | "
             "CPU ms/request | writer thread ms/request | locust cores | load avg | "
             "x transmissions/s | of ceiling |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for workers, figures in results.items():
        name = "abis serve" if workers == 0 else f"abis serve --workers {workers}"
        ratio = figures["transmissions_per_s"] / max(base["transmissions_per_s"], 1e-9)
        of_ceiling = ("-" if ceiling is None else
                      f"{figures['transmissions_per_s'] / ceiling['fast_batched_per_s']:.0%}")
        offered = figures.get("offered_per_s", 0)
        lines.append(
            f"| {name} | {f'{offered:g}' if offered else 'closed loop'} | "
            f"{figures['transmissions_per_s']:.1f} | "
            f"{figures['transmission_p50_ms']:.0f} | {figures['transmission_p95_ms']:.0f} | "
            f"{figures['transmission_p99_ms']:.0f} | {figures['service_cores']:.2f} | "
            f"{figures['cpu_ms_per_request']:.2f} | "
            f"{figures.get('writer_thread_ms_per_request', 0):.2f} | "
            f"{figures.get('locust_cores', 0):.2f} | "
            f"{figures.get('load_average_before', 0):.1f}-"
            f"{figures.get('load_average_after', 0):.1f} | {ratio:.2f} | {of_ceiling} |")
    if ceiling is not None:
        lines.append(f"| engine alone, batched (abis bench, {ceiling['gallery']:,}) | "
                     f" | {ceiling['fast_batched_per_s']:.1f} | | | | | | | | | | 100% |")
    table = "\n".join(lines)
    record = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": f"python -m loadtests.run --gallery {args.gallery} --users {args.users} "
                   f"--duration {args.duration} --workers {args.workers}"
                   + (f" --mix {args.mix}" if args.mix else "")
                   + (f" --rate {args.rate:g}" if getattr(args, "rate", 0) else "")
                   + (f" --wait {args.wait:g}" if getattr(args, "wait", 0) else "")
                   + (" --ceiling" if getattr(args, "ceiling", False) else "")
                   + (" --profile" if getattr(args, "profile", False) else ""),
        "gallery": args.gallery, "load_average_after": _load(), "results": {
            str(workers): figures for workers, figures in results.items()},
        "engine_ceiling": ceiling,
    }
    results_dir = ROOT / "benchmarks" / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    day = dt.datetime.now(dt.UTC).date().isoformat()
    target = results_dir / f"api-tier-{args.gallery}-{day}.json"
    again = 2
    while target.exists():  # a second run of the day keeps the first one's figures
        target = results_dir / f"api-tier-{args.gallery}-{day}-{again}.json"
        again += 1
    target.write_text(json.dumps(record, indent=1) + "\n")
    (out / "comparison.md").write_text(f"{record['command']}\n\n{table}\n\nload average "
                                       f"afterwards: {record['load_average_after']}\n")
    print(table)
    print(f"comparison: {out}/comparison.md, {target}")
    return target
