"""Does the `face` profile's genuine distribution allow FNIR <= 1 % at FPIR 1e-3, and where does
it stand against an anchor's operating point? Genuine face cosines of two encounters of
20,000 persons; impostor cosines of independent unit vectors of the face dimension are modelled
as normal with sd 1/sqrt(dim) (the profile's measured excess kurtosis is about 0). Prints the
threshold for each (gallery size, FPIR) and the share of genuine pairs below it.

Usage: .venv/bin/python benchmarks/face_anchor.py [PROFILE]
"""

from __future__ import annotations

import sys
from statistics import NormalDist

import numpy as np

from tooling.synth.captures import capture_arrays, identities, subspaces
from tooling.synth.profiles import profile_model

MIN_QUALITY = 0.3
POINTS = ((20_000, 1e-3), (1_000_000, 1e-3), (12_000_000, 3e-3))  # the last: FRTE's point


def main() -> None:
    model = profile_model(sys.argv[1] if len(sys.argv) > 1 else "face")
    persons, seed = 20_000, 3
    people = identities(np.random.default_rng([seed, 0]), persons, model, subspaces(seed, model))
    a = capture_arrays(np.random.default_rng([seed, 1]), people, model)
    b = capture_arrays(np.random.default_rng([seed, 2]), people, model)
    na, nb = np.linalg.norm(a.face, axis=1), np.linalg.norm(b.face, axis=1)
    ok = a.has_face & b.has_face & (na >= MIN_QUALITY) & (nb >= MIN_QUALITY)
    genuine = np.sum(a.face * b.face, axis=1)[ok] / (na[ok] * nb[ok])
    print(f"genuine pairs {genuine.size}: mean {genuine.mean():.3f} sd {genuine.std():.3f}")
    sd = 1 / np.sqrt(model.face_dim)
    for size, fpir in POINTS:
        fmr = -np.expm1(np.log1p(-fpir) / size)
        threshold = NormalDist().inv_cdf(1 - fmr) * sd
        print(f"gallery {size:,}, FPIR {fpir:g}: FMR {fmr:.2e}, threshold {threshold:.4f}, "
              f"FNIR {np.mean(genuine < threshold):.4%}")


if __name__ == "__main__":
    main()
