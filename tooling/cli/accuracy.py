"""`abis accuracy`: the accuracy study of a synthetic profile (docs/accuracy.md)."""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer

from service.cli.common import fail


def _percent(rate: dict[str, Any] | None) -> str:
    if not rate or rate.get("rate") is None:
        return "n/a"
    lo, hi = rate["ci95"]
    return f"{100 * rate['rate']:.3f}% [{100 * lo:.3f}, {100 * hi:.3f}]"


def summary(name: str, figures: dict[str, Any]) -> str:
    lines = [f"## {name}: gallery {figures['gallery_size']:,}", ""]
    acquisition = figures["acquisition"]
    lines.append(f"FTE {_percent(acquisition['failure_to_enrol'])}, FTA mated "
                 f"{_percent(acquisition['failure_to_acquire_mated'])}, FTA non-mated "
                 f"{_percent(acquisition['failure_to_acquire_non_mated'])}")
    lines += ["", "| modality | FPIR target | threshold | basis | FNIR [95% CI] | "
              "FPIR measured [95% CI] | FPIR modelled |", "|---|---|---|---|---|---|---|"]
    for modality in ("fingerprint", "face"):
        for p in figures[modality]["operating_points"]:
            if p.get("threshold") is None:
                continue
            modelled = p.get("modelled_fpir")
            lines.append(f"| {modality} | {p['fpir_target']:g} | {p['threshold']:.4f} | "
                         f"{p['basis']} | {_percent(p['fnir'])} | "
                         f"{_percent(p['measured_fpir'])} | "
                         f"{'n/a' if modelled is None else f'{modelled:.2e}'} |")
    lines += ["", "| together (service rule), FPIR target each | FNIR | FNIR incl. FTA | "
              "FPIR | mates found by face only (flagged) |", "|---|---|---|---|---|"]
    for row in figures["together"]:
        lines.append(f"| {row['fpir_target_each_modality']:g} | {_percent(row['fnir'])} | "
                     f"{_percent(row['fnir_with_fta'])} | {_percent(row['fpir'])} | "
                     f"{row['mates_found_by_face_only_flagged']} |")
    return "\n".join(lines)


def accuracy(
    profile: Annotated[str, typer.Option(help="hard, tenprint, face or anisotropic")] = "tenprint",
    gallery: Annotated[int, typer.Option(min=100, help="Persons enrolled")] = 20_000,
    mated: Annotated[int, typer.Option(min=1, help="Mated searches")] = 10_000,
    non_mated: Annotated[int, typer.Option(min=1, help="Non-mated searches")] = 10_000,
    listed: Annotated[int, typer.Option(min=2, max=1000, help="Candidates per search")] = 20,
    normalise: Annotated[bool, typer.Option(
        help="Cohort z-normalisation of fingerprint scores (matcher.Cohort): thresholds and "
             "scores in units of each probe's impostor spread")] = False,
    snorm: Annotated[bool, typer.Option(
        help="Symmetric cohort normalisation (s-norm, matcher.search_symmetric): the mean of "
             "the probe's and the gallery entry's z-scores against the same cohort")] = False,
    seed: Annotated[int, typer.Option()] = 7,
    target_fpir: Annotated[float | None, typer.Option(
        help="Also calibrate thresholds for this FPIR on the gallery (abis calibrate's model) "
             "and measure the FPIR they give")] = None,
    out: Annotated[Path, typer.Option(help="Directory for the JSON and the DET curves")] = Path(
        "benchmarks/results"),
) -> None:
    """Measure FNIR/FPIR of a synthetic profile with 95% intervals, exact search, in process."""
    import matcher
    from service.runtime import matcher_config
    from service.settings import Settings
    from tooling.evaluation.study import run_study
    from tooling.evaluation.study_plots import study_plots
    from tooling.evaluation.study_report import fit_tail, modality_scores, study_figures
    from tooling.synth.profiles import profile_model

    if normalise and snorm:
        fail("--normalise (z-norm) and --snorm are two rules: give one")
    settings = Settings()
    config = matcher_config(settings)
    try:
        model = profile_model(profile, finger_dim=config.finger_dim, face_dim=config.face_dim)
    except ValueError as error:
        fail(str(error))
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    data = run_study(model, config, gallery_size=gallery, mated=mated, non_mated=non_mated,
                     listed=listed, seed=seed, progress=lambda m: typer.echo(m, err=True),
                     normalise=normalise, symmetric=snorm)
    figures = study_figures(data, seed=seed)
    if target_fpir is not None and snorm:
        # abis calibrate's model (service.scores.calibration) knows z-norm, not s-norm: the
        # study's own operating points (from the non-mated searches) still give the thresholds.
        typer.echo("--target-fpir: abis calibrate has no s-norm model; calibration skipped",
                   err=True)
    elif target_fpir is not None and data.gallery is not None:
        from service.scores.calibration import CalibrationError, calibrate
        from tooling.evaluation.study_report import calibration_check

        try:
            calibration = calibrate(data.gallery, target_fpir, seed=seed, exclude_hits=False,
                                    cohort=data.cohort)
        except CalibrationError as error:
            fail(str(error))
        figures["calibration"] = calibration.as_dict() | calibration_check(
            data, calibration.finger_threshold, calibration.face_threshold, target_fpir)
    curves = {}
    for modality, searches, findable, face in (
            ("fingerprint", data.combined, data.finger_findable, False),
            ("face", data.face, data.face_findable, True)):
        mate, top = modality_scores(searches, findable, face=face)
        curves[modality] = (mate, top, fit_tail(data, searches, face=face)[0])
    rule = "-snorm" if snorm else "-znorm" if normalise else ""
    name = f"accuracy-{profile}-{gallery}{rule}"
    study_plots(figures, curves, out, name)
    document = {"profile": profile, "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "command": "abis " + " ".join(sys.argv[1:]), "elapsed_s": round(
                    time.perf_counter() - started, 1),
                "matcher": {"finger_dim": config.finger_dim, "face_dim": config.face_dim,
                            "min_quality": config.min_quality,
                            "index": matcher.IndexKind.EXACT.value,
                            "score_normalisation": "cohort s-norm" if snorm else
                            "cohort z-norm" if normalise else "none"},
                "figures": figures}
    (out / f"{name}.json").write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2))
    typer.echo(summary(profile, figures))
    if "calibration" in figures:
        typer.echo("\ncalibrated: " + orjson.dumps(figures["calibration"]).decode())
    typer.echo(f"\n{out / name}.json and {name}-det-*.png written", err=True)
