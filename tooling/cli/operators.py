"""Operator commands: `abis synth`, `abis load`, `abis evaluate` (synthetic data only)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from service.cli.common import fail

_console = Console(stderr=True)


def _bar() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), TimeRemainingColumn(), console=_console)


def synth(
    persons: Annotated[int, typer.Option(min=1, help="How many persons")],
    out: Annotated[Path, typer.Option(help="Output directory (new or empty)")],
    seed: Annotated[int, typer.Option(help="Same seed, same options: same files")] = 1,
    end: Annotated[str, typer.Option(help="Last possible encounter date (ISO)")] = "2026-11-01",
    years: Annotated[int, typer.Option(min=1, help="Journeys start within this many years")] = 3,
    mated_probes: Annotated[int, typer.Option(min=0, help="Probes of loaded persons")] = 10_000,
    non_mated_probes: Annotated[int, typer.Option(min=0, help="Probes of unknown persons")
                                ] = 10_000,
    profile: Annotated[str, typer.Option(
        help="Synthetic profile: hard, tenprint, face, anisotropic (docs/accuracy.md)")] = "hard",
    finger_noise: Annotated[float | None, typer.Option(
        min=0, help="Finger capture noise (default: the profile's)")] = None,
    face_noise: Annotated[float | None, typer.Option(
        min=0, help="Face capture noise (default: the profile's)")] = None,
    difficulty_spread: Annotated[float | None, typer.Option(
        min=0, help="Spread of per-encounter difficulty (default: the profile's)")] = None,
    identity_dim: Annotated[int | None, typer.Option(
        min=0, help="Effective identity dimension; lower widens impostor scores (0: full)")
    ] = None,
    gzip: Annotated[bool, typer.Option(help="Compress what is loaded too")] = False,
    shard_size: Annotated[int, typer.Option(min=1, help="Lines per file")] = 50_000,
) -> None:
    """Generate a synthetic population with journeys, encounters, probes and ground truth."""
    from service.settings import Settings
    from tooling.synth.dataset import SynthOptions, generate
    from tooling.synth.profiles import profile_model

    settings = Settings()
    try:
        last = dt.date.fromisoformat(end)
    except ValueError:
        fail(f"--end {end!r} is not an ISO date (YYYY-MM-DD)")
    if last >= dt.datetime.now(dt.UTC).date():
        fail("--end must be in the past: the service refuses captures taken in the future")
    knobs: dict[str, Any] = {name: value for name, value in (
        ("finger_noise", finger_noise), ("face_noise", face_noise),
        ("difficulty_spread", difficulty_spread), ("identity_dim", identity_dim))
        if value is not None}
    try:
        model = replace(profile_model(profile, finger_dim=settings.finger_dim,
                                      face_dim=settings.face_dim), **knobs)
        options = SynthOptions(persons=persons, seed=seed, end=last, years=years,
                               mated_probes=min(mated_probes, persons),
                               non_mated_probes=non_mated_probes, shard_size=shard_size,
                               compress=gzip, model=model)
    except ValueError as error:
        fail(str(error))
    with _bar() as bar:
        task = bar.add_task("persons", total=persons)
        try:
            manifest = generate(options, out, lambda done: bar.update(task, completed=done))
        except (FileExistsError, OSError) as error:
            fail(str(error))
    counts = manifest["counts"]
    _console.print(f"wrote {counts['encounters']:,} encounters of {persons:,} persons "
                   f"({counts['expected_refused']:,} will be refused for quality), "
                   f"{counts['mated_probes']:,} mated and {counts['non_mated_probes']:,} "
                   f"non-mated probes to {out}")


def load(
    directory: Annotated[Path, typer.Argument(help="An `abis synth` output directory")],
    url: Annotated[str, typer.Option(help="The service, e.g. http://127.0.0.1:8000")],
    key: Annotated[str, typer.Option(envvar="ABIS_KEY", help="An operator key")],
    chunk: Annotated[int, typer.Option(min=1, help="Datasets per bulk request")] = 2000,
    connections: Annotated[int, typer.Option(min=1, help="Bulk requests in flight")] = 2,
    limit: Annotated[int | None, typer.Option(min=1, help="Load only the first N datasets")
                     ] = None,
    fresh: Annotated[bool, typer.Option(
        help="Forget the progress recorded for this URL (a new service behind it)")] = False,
) -> None:
    """Load a synthetic dataset through the bulk endpoint; rerun to resume after interruption."""
    import orjson

    from tooling.bulk.client import LoadFailed, total_items
    from tooling.bulk.client import load as run_load

    try:
        total = total_items(directory)
    except (OSError, ValueError) as error:
        fail(str(error))
    with _bar() as bar:
        task = bar.add_task("datasets", total=min(total, limit or total))
        try:
            summary = run_load(directory, url, key, chunk=chunk, connections=connections,
                               limit=limit, fresh=fresh,
                               advance=lambda n: bar.advance(task, n))
        except LoadFailed as error:
            fail(str(error))
    result = summary.as_dict()
    _console.print(f"loaded {summary.stored:,} stored, {summary.duplicate:,} already loaded, "
                   f"{summary.refused:,} refused, {summary.hits:,} with hits; "
                   f"{result['datasets_per_second']:,.0f} datasets/s this run")
    for reason, count in summary.reasons.most_common(10):
        _console.print(f"  refused {count:,} x {reason}")
    typer.echo(orjson.dumps(result).decode())


def evaluate(
    directory: Annotated[Path, typer.Argument(help="The `abis synth` directory that was loaded")],
    url: Annotated[str | None, typer.Option(help="The service, e.g. http://127.0.0.1:8000")
                   ] = None,
    key: Annotated[str | None, typer.Option(envvar="ABIS_KEY", help="An operator key")] = None,
    in_process: Annotated[bool, typer.Option(
        help="No service: build the matcher gallery from DIR/load in this process")] = False,
    out: Annotated[Path | None, typer.Option(help="Report directory (default DIR/evaluation)")
                   ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="Candidates per search")] = 50,
    connections: Annotated[int, typer.Option(min=1)] = 2,
    threshold: Annotated[float | None, typer.Option(
        help="The service's decision threshold (default ABIS_FINGER_THRESHOLD)")] = None,
) -> None:
    """Search mated and non-mated probes; write metrics, a DET curve, histograms and a report."""
    from service.settings import Settings
    from tooling.evaluation.gather import EvaluationFailed, gather
    from tooling.evaluation.report import write_report
    from tooling.synth.dataset import read_manifest

    try:
        counts = read_manifest(directory)["counts"]
    except (OSError, ValueError) as error:
        fail(str(error))
    total = counts["mated_probes"] + counts["non_mated_probes"]
    if not total:
        fail(f"{directory} holds no probes (abis synth --mated-probes/--non-mated-probes)")
    from service.runtime import matcher_config

    settings = Settings()
    if in_process:
        from tooling.evaluation.local import gather_locally

        with _bar() as bar:
            task = bar.add_task("datasets, then searches", total=counts["encounters"] + total)
            gathered = gather_locally(directory, matcher_config(settings), limit=limit,
                                      advance=lambda n: bar.advance(task, n))
    else:
        if url is None or key is None:
            fail("give --url and --key (or ABIS_KEY), or --in-process")
        with _bar() as bar:
            task = bar.add_task("searches", total=total)
            try:
                gathered = gather(directory, url, key, limit=limit, connections=connections,
                                  advance=lambda n: bar.advance(task, n),
                                  config=matcher_config(settings))
            except EvaluationFailed as error:
                fail(str(error))
    target = out or directory / "evaluation"
    decision = threshold if threshold is not None else settings.finger_threshold
    write_report(gathered, decision, target)
    typer.echo((target / "report.md").read_text())
    _console.print(f"report.md, metrics.json, det.png and scores.png in {target}")


def register(app: typer.Typer) -> None:
    app.command()(synth)
    app.command()(load)
    app.command()(evaluate)
