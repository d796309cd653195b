"""Markdown tables of the measured figures in benchmarks/results (for docs/accuracy.md):
profile statistics, accuracy studies with their intervals, calibration checks, and the fast
index against exact search per profile. Prints; nothing here is typed by hand.

    .venv/bin/python benchmarks/accuracy_tables.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def _pct(rate: dict[str, Any] | None) -> str:
    if not rate or rate.get("rate") is None:
        return "n/a"
    lo, hi = rate["ci95"]
    return f"{100 * rate['rate']:.3f}% [{100 * lo:.3f}, {100 * hi:.3f}]"


def profiles(path: Path) -> None:
    document = json.loads(path.read_text())
    print(f"Measured by `{document['command']}` on {document['date']}:\n")
    print("| profile | scores | genuine mean ± sd | impostor mean ± sd | impostor excess "
          "kurtosis | threshold at FMR 1e-4 | FNMR there | FNMR at FMR 1e-5 |")
    print("|---|---|---|---|---|---|---|---|")
    for name, stats in document["profiles"].items():
        for part in ("per_finger", "fused", "face"):
            s = stats[part]
            at4, at5 = s.get("at_fmr_0.0001", {}), s.get("at_fmr_1e-05", {})
            print(f"| {name} | {part} | {s['genuine_mean']:.3f} ± {s['genuine_sd']:.3f} | "
                  f"{s['impostor_mean']:.4f} ± {s['impostor_sd']:.4f} | "
                  f"{s['impostor_excess_kurtosis']:.2f} | {at4.get('threshold', 'n/a')} | "
                  f"{at4.get('fnmr', 'n/a')} | {at5.get('fnmr', 'n/a')} |")
        print(f"| {name} | impostor correlation across fingers | "
              f"{stats['impostor_correlation_across_fingers']} | | | | | |")
    print("\nFusion A/B (same pairs): FNMR at equal FMR, the service's rule vs quality-weighted "
          "(sum of quality-weighted cosines / sqrt(sum of squared weights)):\n")
    print("| profile | FMR | threshold (rule) | FNMR (rule) | threshold (weighted) | "
          "FNMR (weighted) |")
    print("|---|---|---|---|---|---|")
    for name, stats in document["profiles"].items():
        for fmr in ("0.0001", "1e-05", "1e-06"):
            a = stats["fused"].get(f"at_fmr_{fmr}")
            b = stats["fused_quality_weighted"].get(f"at_fmr_{fmr}")
            if a and b:
                print(f"| {name} | {fmr} | {a['threshold']} | {a['fnmr']} | {b['threshold']} | "
                      f"{b['fnmr']} |")
    print()


def _label(d: dict[str, Any]) -> str:
    """The profile, marked when finger scores were cohort-normalised (thresholds in z or s-norm
    units)."""
    rule = d.get("matcher", {}).get("score_normalisation", "none")
    if rule == "none":
        return str(d["profile"])
    return f"{d['profile']} ({'s-norm' if 's-norm' in rule else 'z-norm'})"


def studies(paths: list[Path]) -> None:
    print("| profile | gallery | searches (mated / non-mated) | modality | FPIR target | "
          "threshold (basis) | FNIR [95% CI] | FPIR measured [95% CI] | FPIR modelled |")
    print("|---|---|---|---|---|---|---|---|---|")
    for path in paths:
        d = json.loads(path.read_text())
        f = d["figures"]
        for modality in ("fingerprint", "face"):
            m = f[modality]
            for p in m["operating_points"]:
                if p.get("threshold") is None:
                    continue
                modelled = p.get("modelled_fpir")
                print(f"| {_label(d)} | {f['gallery_size']:,} | {m['mated_searches']:,} / "
                      f"{m['non_mated_searches']:,} | {modality} | {p['fpir_target']:g} | "
                      f"{p['threshold']:.4f} ({p['basis']}) | {_pct(p['fnir'])} | "
                      f"{_pct(p['measured_fpir'])} | "
                      f"{'n/a' if modelled is None else f'{modelled:.2e}'} |")
    print("\nTogether (the service's rule; face-only hits flagged), failures to acquire:\n")
    print("| profile | gallery | FPIR target each | FNIR | FNIR incl. FTA | FPIR | "
          "face-only mate hits | FTE | FTA mated | FTA non-mated |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for path in paths:
        d = json.loads(path.read_text())
        f = d["figures"]
        a = f["acquisition"]
        for row in f["together"]:
            print(f"| {_label(d)} | {f['gallery_size']:,} | "
                  f"{row['fpir_target_each_modality']:g} | {_pct(row['fnir'])} | "
                  f"{_pct(row['fnir_with_fta'])} | {_pct(row['fpir'])} | "
                  f"{row['mates_found_by_face_only_flagged']} | {_pct(a['failure_to_enrol'])} | "
                  f"{_pct(a['failure_to_acquire_mated'])} | "
                  f"{_pct(a['failure_to_acquire_non_mated'])} |")
    print("\nCalibrated thresholds (`abis calibrate`'s model fitted on the gallery itself), "
          "FPIR measured with the non-mated searches:\n")
    print("| profile | gallery | target | finger / face threshold | FPIR fingerprint | "
          "FPIR face | FPIR together | target within CI (finger, face, together) |")
    print("|---|---|---|---|---|---|---|---|")
    for path in paths:
        d = json.loads(path.read_text())
        c = d["figures"].get("calibration")
        if not c:
            continue
        within = ", ".join(str(c[k]["target_within_ci"]) for k in ("fingerprint", "face",
                                                                  "together"))
        print(f"| {_label(d)} | {c['gallery_size']:,} | {c['target_fpir']:g} | "
              f"{c['finger_threshold']:.4f} / {c['face_threshold']:.4f} | "
              f"{_pct(c['fingerprint'])} | {_pct(c['face'])} | {_pct(c['together'])} | "
              f"{within} |")
    print("\nCommands: " + "; ".join(f"`{json.loads(p.read_text())['command']}` "
                                     f"({json.loads(p.read_text())['date']}, "
                                     f"{json.loads(p.read_text())['elapsed_s']} s)"
                                     for p in paths))
    print()


def benches(paths: list[Path]) -> None:
    print("| profile | size | engine | thresholds (finger / face) | batched/s | x exact | "
          "B/dataset | agree mated | agree non-mated | same hits |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for path in paths:
        d = json.loads(path.read_text())
        for r in d["results"]:
            c = r.get("calibrated_thresholds") or {}
            thresholds = (f"{c['finger_threshold']} / {c['face_threshold']}" if c else "default")
            for name, e in r["engines"].items():
                print(f"| {r.get('profile', 'hard')} | {r['size']:,} | {name} | {thresholds} | "
                      f"{e['batched_per_s']} | {e['speedup_vs_exact']} | "
                      f"{e['bytes_per_dataset']} | {e['decision_agreement_mated']} | "
                      f"{e['decision_agreement_non_mated']} | {e['same_hits']} |")
    print()


def main() -> None:
    pattern = sys.argv[1] if len(sys.argv) > 1 else "2026-11-30"
    for path in sorted(RESULTS.glob(f"profiles-{pattern}*.json")):
        profiles(path)
    studies(sorted(RESULTS.glob("accuracy-*.json")))
    benches(sorted(RESULTS.glob(f"bench-*-{pattern}.json")))


if __name__ == "__main__":
    main()
