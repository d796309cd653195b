"""Measure the engines on one synthetic gallery per size: build, throughput, latency, memory and
agreement with exact search, all in the same run (absolute numbers drift on a shared machine;
the ratios to exact are the result).

Engines: `fast` (matcher.Gallery, IndexKind.FAST), `exact` (matcher.Gallery, IndexKind.EXACT:
FAISS flat, the oracle) and `usearch` (HNSW, what a user might pick instead; top-k by inner
product over the ten concatenated fingers, fused with the same rule; faces not compared).
"""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

import matcher
from tooling.bench.population import gallery, non_mated
from tooling.synth.profiles import profile_model

ALL = matcher.Eligibility(groups=frozenset(range(6)))
Progress = Callable[[str], None]


@dataclass(frozen=True)
class BenchOptions:
    sizes: Sequence[int]
    probes: int = 2000  # half mated, half non-mated
    batch: int = 64
    latency_probes: int = 200
    exact_latency_probes: int = 20
    usearch_max: int = 200_000  # HNSW builds take long: skipped above this size
    seed: int = 7
    fast: Sequence[matcher.FastIndexParams] = (matcher.FastIndexParams(),)
    config: matcher.MatcherConfig = field(default_factory=matcher.MatcherConfig)
    profile: str = "hard"  # synthetic profile (tooling.synth.profiles)
    target_fpir: float | None = None  # decide at thresholds calibrated for this FPIR


def rss_bytes() -> int:
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    import resource

    return pages * resource.getpagesize()


Decision = list[frozenset[int]]


def _decisions(outcomes: Sequence[matcher.SearchOutcome]) -> Decision:
    return [frozenset(hit.entry_id for hit in outcome.hits) for outcome in outcomes]


def _percentiles(samples: list[float]) -> dict[str, float]:
    ms = np.array(samples) * 1000
    return {f"p{q}_ms": round(float(np.percentile(ms, q)), 3) for q in (50, 95, 99)}


def _throughput(search: Callable[[int, int], Decision], count: int, batch: int) -> tuple[
    float, Decision
]:
    found: Decision = []
    start = time.perf_counter()
    for lo in range(0, count, batch):
        found += search(lo, min(count, lo + batch))
    return count / (time.perf_counter() - start), found


def _latency(search: Callable[[int, int], Decision], count: int) -> dict[str, float]:
    samples = []
    for i in range(count):  # callers pass at most the number of probes
        start = time.perf_counter()
        search(i, i + 1)
        samples.append(time.perf_counter() - start)
    return _percentiles(samples)


def _agreement(found: Decision, truth: Decision, mated: npt.NDArray[np.bool_]) -> dict[str, Any]:
    n = min(len(found), len(truth))
    decision = np.array([bool(found[i]) == bool(truth[i]) for i in range(n)])
    same = np.array([found[i] == truth[i] for i in range(n)])
    m = mated[:n]
    return {
        "decision_agreement_mated": round(float(decision[m].mean()), 5) if m.any() else None,
        "decision_agreement_non_mated": (
            round(float(decision[~m].mean()), 5) if (~m).any() else None
        ),
        "same_hits": round(float(same.mean()), 5),
        "compared": n,
    }


def _prepared_fingers(
    templates: Sequence[matcher.Templates], config: matcher.MatcherConfig
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.uint16]]:
    """The matcher's finger layout (ten normalised slots, zeros where unusable), for usearch."""
    out = np.zeros((len(templates), 10, config.finger_dim), dtype=np.float32)
    masks = np.zeros(len(templates), dtype=np.uint16)
    for i, t in enumerate(templates):
        for position, vector in t.fingers.items():
            norm = float(np.linalg.norm(vector))
            if norm >= config.min_quality:
                out[i, position - 1] = vector / norm
                masks[i] |= 1 << (position - 1)
    return out.reshape(len(templates), -1), masks


_POPCOUNT = np.array([bin(m).count("1") for m in range(1024)], dtype=np.float64)


class _USearch:
    def __init__(self, config: matcher.MatcherConfig) -> None:
        from usearch.index import Index

        self.config = config
        self.index = Index(ndim=10 * config.finger_dim, metric="ip", dtype="f16",
                           connectivity=16, expansion_add=128, expansion_search=64)
        self.masks = np.zeros(0, dtype=np.uint16)

    def add(self, ids: list[int], templates: list[matcher.Templates]) -> None:
        vectors, masks = _prepared_fingers(templates, self.config)
        keep = masks > 0
        self.index.add(np.asarray(ids, dtype=np.uint64)[keep], vectors[keep])
        grown = np.zeros(max(ids) + 1, dtype=np.uint16)
        grown[: len(self.masks)] = self.masks
        grown[ids] = masks
        self.masks = grown

    def search(self, templates: list[matcher.Templates], k: int = 16) -> Decision:
        vectors, masks = _prepared_fingers(templates, self.config)
        result = self.index.search(vectors, k)
        keys = np.asarray(result.keys).reshape(len(templates), -1).astype(np.int64)
        dist = np.asarray(result.distances).reshape(len(templates), -1)
        found: Decision = []
        for i in range(len(templates)):
            hits = set()
            for key, d in zip(keys[i].tolist(), dist[i].tolist(), strict=True):
                if key < 0 or key >= len(self.masks):
                    continue
                count = _POPCOUNT[self.masks[key] & masks[i]]
                if count and (1.0 - d) / math.sqrt(count) >= self.config.finger_threshold:
                    hits.add(key)
            found.append(frozenset(hits))
        return found


def _has_usearch(progress: Progress) -> bool:
    import importlib.util

    if importlib.util.find_spec("usearch") is None:
        progress("usearch is not installed (pip install -e '.[bench]'): skipped")
        return False
    return True


def _fast_name(params: matcher.FastIndexParams, options: BenchOptions) -> str:
    return "fast" if len(options.fast) == 1 else f"fast/{params.subvector_dim}"


def _snapshot_times(gallery: matcher.Gallery, config: matcher.MatcherConfig) -> dict[str, Any]:
    """Write and load an encrypted snapshot (a throwaway key): what startup costs."""
    import os
    import tempfile
    from pathlib import Path

    from service.crypto import MasterKey
    from service.gallery.snapshot import load_snapshot, write_snapshot

    master = MasterKey(os.urandom(32))
    with tempfile.TemporaryDirectory(dir=os.environ.get("ABIS_BENCH_TMP")) as folder:
        path = Path(folder) / "gallery.snapshot"
        start = time.perf_counter()
        write_snapshot(path, gallery, master)
        written = time.perf_counter() - start
        size = path.stat().st_size
        restored = matcher.Gallery(config, index=gallery.kind, fast=gallery.fast_params)
        start = time.perf_counter()
        load_snapshot(path, master, restored)
        loaded = time.perf_counter() - start
    del restored
    gc.collect()
    return {"snapshot_bytes": size, "snapshot_write_s": round(written, 1),
            "snapshot_load_s": round(loaded, 1)}


def run_size(size: int, options: BenchOptions, progress: Progress) -> dict[str, Any]:
    model = profile_model(options.profile, finger_dim=options.config.finger_dim,
                          face_dim=options.config.face_dim)
    rng = np.random.default_rng([options.seed, size])
    n_mated = min(options.probes // 2, size)
    mated_rows = np.sort(rng.choice(size, size=n_mated, replace=False)).astype(np.int64)
    engines: dict[str, Any] = {}
    rss0 = rss_bytes()
    exact = matcher.Gallery(options.config, index=matcher.IndexKind.EXACT)
    fast = {
        # The exact gallery stands in for the store the service re-checks from.
        _fast_name(params, options): matcher.Gallery(
            options.config, index=matcher.IndexKind.FAST, fast=params, source=exact.templates_of
        )
        for params in options.fast
    }
    use_usearch = size <= options.usearch_max and _has_usearch(progress)
    other = _USearch(options.config) if use_usearch else None
    build = dict.fromkeys([*fast, "exact", "usearch"], 0.0)
    probes: list[matcher.Templates] = []
    for chunk, chunk_probes in gallery(options.seed, size, model, mated_rows):
        probes += chunk_probes
        for name, target in (*fast.items(), ("exact", exact)):
            start = time.perf_counter()
            target.add_many(zip(chunk.ids, chunk.templates, chunk.metas, strict=True))
            build[name] += time.perf_counter() - start
        if other is not None:
            start = time.perf_counter()
            other.add(chunk.ids, chunk.templates)
            build["usearch"] += time.perf_counter() - start
        progress(f"size {size:,}: built {chunk.ids[-1] + 1:,}")
    gc.collect()
    rss_built = rss_bytes()
    calibrated = None
    if options.target_fpir is not None:
        from service.scores.calibration import calibrate

        progress(f"size {size:,}: calibrating thresholds for FPIR {options.target_fpir:g}")
        calibration = calibrate(exact, options.target_fpir, exclude_hits=False,
                                seed=options.seed)
        calibrated = calibration.as_dict()
        for held in (exact, *fast.values()):
            held.set_thresholds(calibration.finger_threshold, calibration.face_threshold)
    probes += non_mated(options.seed, options.probes - n_mated, model)
    mated = np.arange(len(probes)) < n_mated
    count = len(probes)

    def searcher(g: matcher.Gallery) -> Callable[[int, int], Decision]:
        return lambda lo, hi: _decisions(g.search_many(probes[lo:hi], [ALL] * (hi - lo)))

    progress(f"size {size:,}: exact search of {count} probes")
    exact_qps, truth = _throughput(searcher(exact), count, options.batch)
    engines["exact"] = {
        "build_s": round(build["exact"], 1), "index_bytes": exact.nbytes(),
        "batched_per_s": round(exact_qps, 1),
        **_latency(searcher(exact), min(count, options.exact_latency_probes)),
        **_agreement(truth, truth, mated),
    }
    for name, target in fast.items():
        progress(f"size {size:,}: {name} search")
        rechecked = target.rechecked
        fast_qps, found = _throughput(searcher(target), count, options.batch)
        engines[name] = {
            "rechecked_per_search": round((target.rechecked - rechecked) / count, 4),
            "build_s": round(build[name], 1), "index_bytes": target.nbytes(),
            "batched_per_s": round(fast_qps, 1),
            **_latency(searcher(target), min(count, options.latency_probes)),
            **_agreement(found, truth, mated),
            **_snapshot_times(target, options.config),
        }
    if other is not None:
        progress(f"size {size:,}: usearch search")

        def search_other(lo: int, hi: int) -> Decision:
            return other.search(probes[lo:hi])

        other_qps, found = _throughput(search_other, count, options.batch)
        engines["usearch"] = {
            "build_s": round(build["usearch"], 1),
            "index_bytes": int(other.index.memory_usage),
            "batched_per_s": round(other_qps, 1),
            **_latency(search_other, min(count, options.latency_probes)),
            **_agreement(found, truth, mated),
        }
    for figures in engines.values():
        figures["bytes_per_dataset"] = round(figures["index_bytes"] / size, 1)
        figures["speedup_vs_exact"] = round(figures["batched_per_s"] / exact_qps, 2)
    return {
        "size": size,
        "profile": options.profile,
        "calibrated_thresholds": calibrated,
        "probes": {"mated": int(mated.sum()), "non_mated": int((~mated).sum())},
        "rss_after_build_bytes": rss_built, "rss_growth_bytes": rss_built - rss0,
        "exact_hits_mated": round(float(np.mean([bool(t) for t in truth[:n_mated]])), 4),
        "exact_hits_non_mated": round(float(np.mean([bool(t) for t in truth[n_mated:]])), 4),
        "engines": engines,
    }


def table(results: Sequence[dict[str, Any]]) -> str:
    head = ("size", "engine", "build s", "batched/s", "x exact", "p50 ms", "p99 ms",
            "B/dataset", "agree mated", "agree non-mated", "same hits")
    lines = [" | ".join(head), " | ".join("---" for _ in head)]
    for result in results:
        for name, f in result["engines"].items():
            lines.append(" | ".join(str(v) for v in (
                f"{result['size']:,}", name, f["build_s"], f["batched_per_s"],
                f["speedup_vs_exact"], f["p50_ms"], f["p99_ms"], f["bytes_per_dataset"],
                f["decision_agreement_mated"], f["decision_agreement_non_mated"],
                f["same_hits"],
            )))
    return "\n".join(f"| {line} |" for line in lines)
