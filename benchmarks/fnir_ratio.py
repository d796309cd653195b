"""Is one study's fingerprint FNIR within a factor of another's? The ratio of two FNIRs at the
same FPIR target, with a 95 % interval.

Misses are rare, so the interval is the conditional one for a ratio of two small rates: given
k = x1 + x2 misses in all, x1 is binomial(k, p) with p = n1 r / (n1 r + n2), r the ratio of
the rates; a Wilson interval on p (sound at 0 or k) maps to one on r = p / (1 - p) * n2 / n1.
"Within 2x" is shown when the upper bound is at most 2, "beyond" when the lower bound exceeds 2.

Usage: .venv/bin/python benchmarks/fnir_ratio.py NUMERATOR.json DENOMINATOR.json [FPIR]
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

from tooling.evaluation.intervals import wilson


def fnir_counts(path: Path, fpir: float) -> tuple[int, int, dict[str, Any]]:
    """(misses, fingerprint-findable mated searches, the operating point) at `fpir`."""
    document = json.loads(path.read_text())
    for point in document["figures"]["fingerprint"]["operating_points"]:
        if math.isclose(point["fpir_target"], fpir):
            return point["fnir"]["errors"], point["fnir"]["trials"], point
    raise SystemExit(f"{path}: no fingerprint operating point at FPIR {fpir}")


def ratio_interval(x1: int, n1: int, x2: int, n2: int) -> tuple[float, float, float]:
    """(ratio, lower, upper) of x1/n1 over x2/n2 (inf where the denominator's misses are 0)."""
    k = x1 + x2
    if k == 0:
        return math.nan, 0.0, math.inf
    _, lo, hi = wilson(x1, k)

    def odds(p: float) -> float:
        return math.inf if p >= 1 else p / (1 - p) * n2 / n1

    ratio = math.inf if x2 == 0 else (x1 / n1) / (x2 / n2)
    return ratio, odds(lo), odds(hi)


def main() -> None:
    first, second = Path(sys.argv[1]), Path(sys.argv[2])
    fpir = float(sys.argv[3]) if len(sys.argv) > 3 else 1e-3
    x1, n1, p1 = fnir_counts(first, fpir)
    x2, n2, p2 = fnir_counts(second, fpir)
    ratio, lo, hi = ratio_interval(x1, n1, x2, n2)
    for name, x, n, p in ((first.name, x1, n1, p1), (second.name, x2, n2, p2)):
        print(f"{name}: FNIR {100 * x / n:.3f}% [{100 * p['fnir']['ci95'][0]:.3f}, "
              f"{100 * p['fnir']['ci95'][1]:.3f}] ({x} of {n}) at threshold "
              f"{p['threshold']:.4f} ({p['basis']})")
    verdict = ("within 2x shown" if hi <= 2 else "beyond 2x shown" if lo > 2
               else "neither within nor beyond 2x shown")
    print(f"ratio {ratio:.2f} [{lo:.2f}, {hi:.2f}] (95 %, conditional on {x1 + x2} misses): "
          f"{verdict}")


if __name__ == "__main__":
    main()
