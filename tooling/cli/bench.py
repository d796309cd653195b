"""`abis bench`: fast index vs exact FAISS vs usearch on synthetic galleries, in one run."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import orjson
import typer

import matcher


def bench(
    sizes: Annotated[str, typer.Option(help="Gallery sizes, comma-separated")] = "100000",
    probes: Annotated[int, typer.Option(min=2, help="Probes per size, half mated")] = 2000,
    batch: Annotated[int, typer.Option(min=1, help="Probes per search_many call")] = 64,
    usearch_max: Annotated[int, typer.Option(help="Skip usearch above this size")] = 200_000,
    subvector_dim: Annotated[
        str, typer.Option(help="Fast index: dims per 4-bit code (a list builds several)")
    ] = str(matcher.FastIndexParams().subvector_dim),
    candidates: Annotated[
        int, typer.Option(help="Fast index: first top-k of the largest shard")
    ] = matcher.FastIndexParams().candidates,
    seed: Annotated[int, typer.Option()] = 7,
    profile: Annotated[str, typer.Option(
        help="Synthetic profile: hard, tenprint, face, anisotropic (docs/accuracy.md)")] = "hard",
    target_fpir: Annotated[float | None, typer.Option(
        help="Decide at thresholds calibrated on the gallery for this FPIR (abis calibrate)")
    ] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write results here")] = None,
) -> None:
    """Build galleries of the given sizes from synthetic data and print throughput, latency,
    memory and agreement with exact search of the fast index, exact FAISS and usearch."""
    from service.cli.common import fail
    from tooling.bench.run import BenchOptions, run_size, table
    from tooling.synth.profiles import PROFILES

    if profile not in PROFILES:
        fail(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
    if target_fpir is not None and not 0 < target_fpir < 1:
        fail("--target-fpir must be between 0 and 1")

    options = BenchOptions(
        sizes=[int(s.replace("_", "")) for s in sizes.split(",")], probes=probes,
        batch=batch, usearch_max=usearch_max, seed=seed, profile=profile,
        target_fpir=target_fpir,
        fast=[matcher.FastIndexParams(subvector_dim=int(d), candidates=candidates)
              for d in subvector_dim.split(",")],
    )
    results = []
    for size in options.sizes:
        results.append(run_size(size, options, lambda m: typer.echo(m, err=True)))
        typer.echo(orjson.dumps(results[-1]).decode(), err=True)
    document = {"options": {"sizes": list(options.sizes), "probes": probes, "batch": batch,
                            "subvector_dim": subvector_dim, "candidates": candidates,
                            "seed": seed, "profile": profile, "target_fpir": target_fpir},
                "results": results}
    if json_out:
        json_out.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2))
    sys.stdout.write(table(results) + "\n")
