"""The evaluation report: figures as JSON and Markdown, a DET curve and score histograms (PNG)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from service.scores.metrics import (
    det_curve,
    fnir,
    fpir,
    impostor_tail,
    mate_scores,
    rank1_rate,
    threshold_for_fpir,
    top_scores,
)
from tooling.evaluation.gather import Gathered

FPIR_TARGETS = (1e-2, 1e-3, 1e-4)
GALLERY_SIZES = (10_000, 100_000, 1_000_000, 10_000_000)


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def compute(gathered: Gathered, decision_threshold: float) -> dict[str, Any]:
    mate = mate_scores(gathered.mated)
    top = top_scores(gathered.non_mated)
    tail = impostor_tail(gathered.non_mated, gathered.gallery_size, gathered.listed)
    operating = []
    for target in FPIR_TARGETS:
        empirical = threshold_for_fpir(top, target)
        supported = top.size * target >= 1
        modelled = tail.threshold_for(target, gathered.gallery_size) if tail else math.nan
        # Fewer than 1/target non-mated searches cannot show an FPIR of target: use the
        # threshold the impostor tail model gives for this gallery size instead.
        threshold = empirical if supported or not math.isfinite(modelled) else modelled
        operating.append({
            "fpir_target": target,
            "threshold": _finite(threshold),
            "fnir": _finite(fnir(mate, threshold)) if math.isfinite(threshold) else None,
            "measured_fpir": _finite(fpir(top, threshold)),
            "basis": "non-mated searches" if supported or not math.isfinite(modelled)
            else "impostor tail model",
            "empirical_threshold": _finite(empirical),
            "modelled_threshold": _finite(modelled),
        })
    scaling = []
    if tail is not None:
        for size in GALLERY_SIZES:
            scaling.append({"gallery_size": size, "thresholds": {
                f"{target:g}": round(tail.threshold_for(target, size), 4)
                for target in FPIR_TARGETS}})
    return {
        "gallery_size": gathered.gallery_size,
        "mated_searches": len(gathered.mated),
        "non_mated_searches": len(gathered.non_mated),
        "mated_probes_without_stored_mate": gathered.mated_without_mate_in_gallery,
        "failures_to_acquire": {
            "mated": gathered.failures_to_acquire_mated,
            "non_mated": gathered.failures_to_acquire_non_mated,
        },
        "candidates_per_search": gathered.listed,
        "rank1_identification_rate": _finite(rank1_rate(gathered.mated)),
        "decision_threshold": decision_threshold,
        "at_decision_threshold": {
            "fnir": _finite(fnir(mate, decision_threshold)),
            "fpir": _finite(fpir(top, decision_threshold)),
            "modelled_fpir": _finite(-math.expm1(gathered.gallery_size * math.log1p(
                -tail.fmr(decision_threshold)))) if tail else None,
        },
        "operating_points": operating,
        "impostor_tail": None if tail is None else {
            "comparisons": tail.comparisons, "measured_from": _finite(tail.floor),
            "probit_intercept": tail.intercept, "probit_slope": tail.slope,
            "impostor_sd_estimate": 1.0 / tail.slope,
        },
        "threshold_by_gallery_size": scaling,
    }


def _plots(gathered: Gathered, figures: dict[str, Any], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    mate = mate_scores(gathered.mated)
    top = top_scores(gathered.non_mated)
    _, fpirs, fnirs = det_curve(mate, top)
    floor = 0.5 / max(top.size, mate.size, 1)
    fig, ax = plt.subplots(figsize=(6, 5))
    ax.loglog(np.maximum(fpirs, floor), np.maximum(fnirs, floor), drawstyle="steps-post")
    for point in figures["operating_points"]:
        if point["fnir"] is not None and point["basis"] == "non-mated searches":
            ax.plot(max(point["measured_fpir"], floor), max(point["fnir"], floor), "o")
    ax.set_xlabel("FPIR (false positive identification rate)")
    ax.set_ylabel("FNIR (false negative identification rate)")
    ax.set_title(f"DET, gallery of {figures['gallery_size']:,} datasets")
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(out / "det.png", dpi=110)
    plt.close(fig)

    impostor = np.concatenate([np.asarray(s) for s in gathered.non_mated if s] or [np.zeros(0)])
    fig, ax = plt.subplots(figsize=(7, 4.5))
    bins = np.linspace(min(-0.5, float(impostor.min(initial=0))),
                       max(3.5, float(mate[np.isfinite(mate)].max(initial=0))), 120).tolist()
    ax.hist(mate[np.isfinite(mate)], bins=bins, alpha=0.6, label="genuine (best mate score)",
            density=True)
    ax.hist(top[np.isfinite(top)], bins=bins, alpha=0.6, label="impostor (best non-mated score)",
            density=True)
    ax.hist(impostor, bins=bins, alpha=0.4, label="impostor (all listed candidates)",
            density=True, histtype="step")
    ax.axvline(figures["decision_threshold"], color="k", linestyle="--", label="threshold")
    ax.set_yscale("log")
    ax.set_xlabel("fused fingerprint score")
    ax.set_ylabel("density")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "scores.png", dpi=110)
    plt.close(fig)


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.2f}%"


def markdown(figures: dict[str, Any]) -> str:
    at = figures["at_decision_threshold"]
    lines = [
        "# abis accuracy evaluation (synthetic data)",
        "",
        f"Gallery: {figures['gallery_size']:,} datasets. Searches: "
        f"{figures['mated_searches']:,} mated, {figures['non_mated_searches']:,} non-mated "
        f"(top {figures['candidates_per_search']} fingerprint candidates each); failures to "
        f"acquire (probes the quality gate refused, not searched, never retried): "
        f"{figures['failures_to_acquire']['mated']:,} mated, "
        f"{figures['failures_to_acquire']['non_mated']:,} non-mated.",
        "",
        f"- Rank-1 identification rate: **{_percent(figures['rank1_identification_rate'])}**",
        f"- At the decision threshold {figures['decision_threshold']}: FNIR "
        f"{_percent(at['fnir'])}, FPIR {_percent(at['fpir'])} measured"
        + (f", {at['modelled_fpir']:.2e} modelled" if at["modelled_fpir"] is not None else ""),
        "",
        "| FPIR target | threshold | FNIR | basis |",
        "|---|---|---|---|",
    ]
    for point in figures["operating_points"]:
        threshold = "n/a" if point["threshold"] is None else f"{point['threshold']:.4f}"
        lines.append(f"| {point['fpir_target']:g} | {threshold} | {_percent(point['fnir'])} | "
                     f"{point['basis']} |")
    if figures["threshold_by_gallery_size"]:
        lines += ["", "How the threshold must move with the gallery (FPIR = 1 - (1 - FMR)^N, "
                  "about N x FMR; FMR from the impostor tail):", "",
                  "| gallery size | " + " | ".join(f"FPIR {t:g}" for t in FPIR_TARGETS) + " |",
                  "|---|" + "---|" * len(FPIR_TARGETS)]
        for row in figures["threshold_by_gallery_size"]:
            lines.append(f"| {row['gallery_size']:,} | "
                         + " | ".join(f"{v:.3f}" for v in row["thresholds"].values()) + " |")
    lines += ["", "![DET](det.png)", "", "![scores](scores.png)", ""]
    return "\n".join(lines)


def write_report(gathered: Gathered, decision_threshold: float, out: Path) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    figures = compute(gathered, decision_threshold)
    (out / "metrics.json").write_bytes(orjson.dumps(figures, option=orjson.OPT_INDENT_2))
    (out / "report.md").write_text(markdown(figures))
    _plots(gathered, figures, out)
    return figures
