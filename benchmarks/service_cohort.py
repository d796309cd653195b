"""The running service's cohort rule against the study's, and against raw scores, on the
accuracy study's own population (`abis accuracy`'s gallery and probes, same seed).

Three fingerprint decision rules on one exact gallery and the same probes:
  raw     - the fused score against the study's raw FPIR 1e-3 threshold (`LocalGallery`);
  study   - `matcher.search_normalised` with the study's cohort (`draw_cohort`, random draw);
  service - `LocalGallery.search` with the service's `CohortKeeper` (ABIS_SCORE_NORMALISATION=
            cohort: ranked draw of ABIS_COHORT_SIZE, ABIS_COHORT_SEED), the code `abis serve`
            runs, at the same z threshold.
With --fast, a fourth: the service's rule on the fast index (ABIS_INDEX=fast, the default; the
exact gallery is its template source, as the store is the service's), and how many decisions
it shares with the service's rule on exact search, mated and non-mated apart.
As in the study's fingerprint view: FNIR over mated searches whose mate shares a usable finger
(a miss: no fingerprint hit on the mate), FPIR over non-mated searches (any fingerprint hit);
faces are left out (face threshold above any cosine). Wilson 95 % intervals; and how many
decisions the service rule and the study rule share (they differ only in the cohort drawn).

    .venv/bin/python benchmarks/service_cohort.py --gallery 20000 --mated 3000 --non-mated 3000
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import matcher  # noqa: E402
from service.writer.cohort import CohortKeeper  # noqa: E402
from service.writer.gallery import LocalGallery  # noqa: E402
from tooling.bench.population import gallery as population_gallery  # noqa: E402
from tooling.bench.population import non_mated as population_non_mated  # noqa: E402
from tooling.evaluation.intervals import wilson  # noqa: E402
from tooling.evaluation.study import COHORT_SIZE, EVERYONE, draw_cohort, usable  # noqa: E402
from tooling.synth.profiles import profile_model  # noqa: E402

# The study's FPIR 1e-3 fingerprint thresholds at 20,000 (accuracy-anisotropic-20000*.json).
RAW_THRESHOLD = 1.2644173772465914
Z_THRESHOLD = 7.03171546752535
NO_FACE = 2.0
_BATCH = 64


def _mask(templates: matcher.Templates, config: matcher.MatcherConfig) -> int:
    return sum(1 << (p - 1) for p, v in templates.fingers.items()
               if float(np.linalg.norm(v)) >= config.min_quality)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="anisotropic")
    parser.add_argument("--gallery", type=int, default=20_000)
    parser.add_argument("--mated", type=int, default=3_000)
    parser.add_argument("--non-mated", type=int, default=3_000)
    parser.add_argument("--seed", type=int, default=7)  # `abis accuracy`'s default
    parser.add_argument("--cohort-seed", type=int, default=0)  # ABIS_COHORT_SEED's default
    parser.add_argument("--fast", action="store_true",
                        help="also the service's rule on the fast index, against exact")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    started = time.perf_counter()
    model = profile_model(args.profile)
    config = matcher.MatcherConfig(finger_threshold=Z_THRESHOLD, face_threshold=NO_FACE)
    rng = np.random.default_rng([args.seed, args.gallery, 17])  # as run_study draws them
    mated_rows = np.sort(rng.choice(args.gallery, size=min(args.mated, args.gallery),
                                    replace=False)).astype(np.int64)
    gallery = matcher.Gallery(config, index=matcher.IndexKind.EXACT)
    fast = (matcher.Gallery(config, index=matcher.IndexKind.FAST, source=gallery.templates_of)
            if args.fast else None)
    masks: dict[int, int] = {}
    mated_probes: list[matcher.Templates] = []
    for chunk, probes in population_gallery(args.seed, args.gallery, model, mated_rows):
        keep = [(i, t, m) for i, t, m in zip(chunk.ids, chunk.templates, chunk.metas,
                                            strict=True) if usable(t, config)]
        masks.update((i, _mask(t, config)) for i, t, _ in keep)
        gallery.add_many(keep)
        if fast is not None:
            fast.add_many(keep)
        mated_probes += probes
    searched: list[matcher.Templates] = []
    mates: list[int] = []
    for probe, person in zip(mated_probes, mated_rows.tolist(), strict=True):
        if usable(probe, config) and person in masks and _mask(probe, config) & masks[person]:
            searched.append(probe)
            mates.append(person)
    n_mated = len(searched)
    searched += [p for p in population_non_mated(args.seed, args.non_mated, model)
                 if usable(p, config)]
    mates += [-1] * (len(searched) - n_mated)
    enrolled_s = time.perf_counter() - started

    keeper = CohortKeeper(config, COHORT_SIZE, args.cohort_seed, lambda: gallery.entries()[0],
                          gallery.templates_of)
    keeper.draw()
    service = LocalGallery(gallery, keeper)
    raw = LocalGallery(gallery)
    study_cohort = draw_cohort(gallery, COHORT_SIZE, args.seed)
    rules = {
        "raw": lambda batch: raw.search(batch, [EVERYONE] * len(batch),
                                        finger_threshold=RAW_THRESHOLD).outcomes,
        "study": lambda batch: matcher.search_normalised(
            gallery, study_cohort, batch, [EVERYONE] * len(batch), finger_z=Z_THRESHOLD,
            face_threshold=NO_FACE),
        "service": lambda batch: service.search(batch, [EVERYONE] * len(batch)).outcomes,
    }
    if fast is not None:
        fast_keeper = CohortKeeper(config, COHORT_SIZE, args.cohort_seed,
                                   lambda: fast.entries()[0], gallery.templates_of)
        fast_keeper.draw()
        on_fast = LocalGallery(fast, fast_keeper)
        rules["service-fast"] = lambda batch: on_fast.search(
            batch, [EVERYONE] * len(batch)).outcomes
    decisions: dict[str, list[bool]] = {}
    figures: dict[str, object] = {}
    for name, search in rules.items():
        t0 = time.perf_counter()
        hit: list[bool] = []
        for lo in range(0, len(searched), _BATCH):
            batch = searched[lo:lo + _BATCH]
            for outcome, mate in zip(search(batch), mates[lo:lo + _BATCH], strict=True):
                fingers = [h.entry_id for h in outcome.hits
                           if h.modality is matcher.Modality.FINGERPRINT]
                hit.append(mate in fingers if mate >= 0 else bool(fingers))
        decisions[name] = hit
        misses = n_mated - sum(hit[:n_mated])
        false = sum(hit[n_mated:])
        n_non = len(hit) - n_mated
        fnir, fpir = wilson(misses, n_mated), wilson(false, n_non)
        figures[name] = {
            "threshold": RAW_THRESHOLD if name == "raw" else Z_THRESHOLD,
            "fnir": {"errors": misses, "trials": n_mated, "rate": fnir[0],
                     "ci95": [fnir[1], fnir[2]]},
            "fpir": {"errors": false, "trials": n_non, "rate": fpir[0],
                     "ci95": [fpir[1], fpir[2]]},
            "searches_per_s": round(len(searched) / (time.perf_counter() - t0), 1)}
        print(f"{name:8s} FNIR {misses}/{n_mated} = {100 * fnir[0]:.3f}% "
              f"[{100 * fnir[1]:.3f}, {100 * fnir[2]:.3f}]  FPIR {false}/{n_non} = "
              f"{100 * fpir[0]:.3f}% [{100 * fpir[1]:.3f}, {100 * fpir[2]:.3f}]", flush=True)
    same = sum(a == b for a, b in zip(decisions["service"], decisions["study"], strict=True))
    result = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": "benchmarks/service_cohort.py " + " ".join(sys.argv[1:]),
        "profile": args.profile, "gallery_size": len(gallery), "cohort_size": COHORT_SIZE,
        "service_cohort_members": len(keeper.members),
        "figures": figures,
        "service_vs_study_same_decisions": {"same": same, "of": len(searched)},
        "enrol_s": round(enrolled_s, 1), "elapsed_s": round(time.perf_counter() - started, 1),
        "loadavg": Path("/proc/loadavg").read_text().split()[:3],
    }
    if fast is not None:
        pairs = list(zip(decisions["service-fast"], decisions["service"], strict=True))
        agree = {"mated": sum(a == b for a, b in pairs[:n_mated]), "of_mated": n_mated,
                 "non_mated": sum(a == b for a, b in pairs[n_mated:]),
                 "of_non_mated": len(pairs) - n_mated,
                 "same_cohort": fast_keeper.members == keeper.members}
        result["service_fast_vs_exact_same_decisions"] = agree
        print(f"service rule, fast index against exact: same decision on {agree['mated']}/"
              f"{n_mated} mated and {agree['non_mated']}/{agree['of_non_mated']} non-mated "
              f"searches (same cohort: {agree['same_cohort']})")
    print(f"service and study rules: same decision on {same}/{len(searched)} searches")
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
