"""The engine's own batched search rate over a gallery of a given size: the ceiling a load
test or a bulk load is compared with, measured in the same run (`abis bench`: synthetic
persons, 64-probe batches, the service's default fast index at 4 dimensions per code, and the
exact engine beside it)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path


def engine_ceiling(gallery: int, target: Path, log: Callable[[str], None] = print
                   ) -> dict[str, float]:
    log(f"engine ceiling: abis bench over {gallery:,} persons")
    subprocess.run([sys.executable, "-m", "tooling", "bench", "--sizes", str(gallery),
                    "--probes", "1024", "--usearch-max", "0", "--subvector-dim", "4",
                    "--json", str(target)], check=True, stdout=subprocess.DEVNULL)
    engines = json.loads(target.read_text())["results"][0]["engines"]
    fast = next(figures for name, figures in engines.items() if name.startswith("fast"))
    ceiling = {"gallery": gallery, "fast_batched_per_s": fast["batched_per_s"],
               "exact_batched_per_s": engines["exact"]["batched_per_s"]}
    log(f"engine ceiling: {ceiling}")
    return ceiling
