"""DET curves of a study: measured curve with a 95 % bootstrap band, the impostor-tail model
dashed where the non-mated searches run out, and published anchor points with their gallery
sizes (docs/accuracy.md says which figures were confirmed)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from service.scores.metrics import ImpostorTail
from tooling.evaluation.study_report import modelled_fpir


@dataclass(frozen=True, slots=True)
class Anchor:
    label: str
    fpir: float
    fnir: float | None  # None: a false-positive rate only (drawn as a vertical line)
    gallery: str


FINGER_ANCHORS = (
    Anchor("NIST FpVTE 2012 ten-print, best (NISTIR 8034; FNIR value not confirmed here)",
           1e-3, 2e-3, "5M subjects"),
    Anchor("Eurodac: 1 false hit reported in >1.1M searches (Commission report 2012)",
           1 / 1.1e6, None, "~2-3M datasets"),
)
FACE_ANCHORS = (
    Anchor("NIST FRTE 1:N mugshots, best (FNIR value not confirmed here)", 3e-3, 2e-3,
           "12M persons"),
)


def _band(mate: np.ndarray, top: np.ndarray, grid: np.ndarray, replicates: int = 200,
          seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    curves = np.empty((replicates, grid.size))
    for r in range(replicates):
        m = np.sort(mate[rng.integers(0, mate.size, mate.size)])
        t = np.sort(top[rng.integers(0, top.size, top.size)])[::-1]
        ranks = np.minimum((grid * t.size).astype(np.int64), t.size - 1)
        thresholds = np.nextafter(t[ranks], np.inf)
        curves[r] = np.searchsorted(m, thresholds, side="left") / m.size
    return np.percentile(curves, 2.5, axis=0), np.percentile(curves, 97.5, axis=0)


def det_plot(mate: np.ndarray, top: np.ndarray, tail: ImpostorTail | None, gallery_size: int,
             anchors: tuple[Anchor, ...], title: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 6.5))
    floor = 0.5 / max(mate.size, 1)
    if mate.size and top.size:
        grid = np.logspace(np.log10(1.0 / top.size), 0, 60)
        ranked = np.sort(top)[::-1]
        ranks = np.minimum((grid * top.size).astype(np.int64), top.size - 1)
        thresholds = np.nextafter(ranked[ranks], np.inf)
        sorted_mate = np.sort(mate)
        fnir = np.searchsorted(sorted_mate, thresholds, side="left") / mate.size
        low, high = _band(mate, top, grid)
        ax.fill_between(grid, np.maximum(low, floor), np.maximum(high, floor), alpha=0.25,
                        label="95% bootstrap band")
        ax.loglog(grid, np.maximum(fnir, floor), label="measured")
        if tail is not None:
            start = float(thresholds[0])
            stop = tail.threshold_for(1e-7, gallery_size)
            ts = np.linspace(start, max(stop, start), 80)
            model_fpir = np.array([modelled_fpir(tail, t, gallery_size) for t in ts])
            model_fnir = np.searchsorted(sorted_mate, ts, side="left") / mate.size
            ax.loglog(model_fpir, np.maximum(model_fnir, floor), "--",
                      label="impostor-tail model (extrapolated)")
    for anchor in anchors:
        if anchor.fnir is None:
            ax.axvline(anchor.fpir, color="grey", linestyle=":",
                       label=f"{anchor.label} [{anchor.gallery}]")
        else:
            ax.plot(anchor.fpir, anchor.fnir, "k*", markersize=10)
            ax.annotate(f"{anchor.label}\n[{anchor.gallery}]", (anchor.fpir, anchor.fnir),
                        fontsize=6, xytext=(-150, 8), textcoords="offset points")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(1e-7, 1)
    ax.set_ylim(floor * 0.8, 1.0)
    ax.set_xlabel("FPIR")
    ax.set_ylabel("FNIR")
    ax.set_title(title, fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=6, loc="upper center", bbox_to_anchor=(0.5, -0.12))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def study_plots(figures: dict[str, Any], curves: dict[str, Any], out: Path, name: str) -> None:
    for modality, anchors in (("fingerprint", FINGER_ANCHORS), ("face", FACE_ANCHORS)):
        mate, top, tail = curves[modality]
        det_plot(mate, top, tail, figures["gallery_size"], anchors,
                 f"{name}: {modality} DET, gallery {figures['gallery_size']:,}, "
                 f"{mate.size:,} mated / {top.size:,} non-mated searches",
                 out / f"{name}-det-{modality}.png")
