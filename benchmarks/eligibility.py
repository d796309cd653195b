"""Eligibility filtering: FAISS selectors on one index vs one index per group, measured.

A program, not a test: prints searches/s for each approach on the same gallery and probes, and
their ratios, and optionally writes them as JSON. Usage (from the repository root):

    .venv/bin/python benchmarks/eligibility.py                  # 100k entries, 10 x 128-d fingers
    .venv/bin/python benchmarks/eligibility.py --entries 20000 --json reports/eligibility.json

Approaches, all exact, all answering the same question (range search at the fused threshold):
  unfiltered   one flat index, no eligibility at all: the brute-force baseline
  selectors    one flat index, eligibility as an IDSelectorBitmap built from numpy columns
               (what matcher.Gallery's exact engine did until it became a dense batched
               product with eligibility as a mask, `matcher/_dense.py`), measured bare, and
               Gallery.search as it is now
  per-group    one flat index per group; marked-only groups and the excluded Member State are
               post-filtered, since marks change and a Member State cuts across groups
Also: Gallery.search_many vs a loop of Gallery.search, and two threads searching at once.
Absolute numbers drift on a shared machine; the ratios, taken in the same run, are the result.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import faiss
import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from matcher import (  # noqa: E402
    Eligibility,
    EntryMeta,
    Gallery,
    MatcherConfig,
    SearchOutcome,
    Templates,
)

FINGERS = 10
GROUP_SHARES = (0.55, 0.15, 0.30)  # e.g. asylum applicants, irregular entry, illegal stay
MARKED_SHARE = 0.10
MEMBER_STATES = 27
PROBES = 64
ELIGIBLE = Eligibility(
    groups=frozenset({0, 1}), marked_only_groups=frozenset({2}), exclude_member_state=3
)


def unit_rows(rng: np.random.Generator, n: int, dim: int) -> npt.NDArray[np.float32]:
    x = rng.standard_normal((n, FINGERS, dim), dtype=np.float32)
    x /= np.linalg.norm(x, axis=2, keepdims=True)
    return x.reshape(n, FINGERS * dim)


def rate(search: Callable[[int], object], seconds: float) -> float:
    """Calls per second of `search` (given probe numbers in turn), run for about `seconds`."""
    search(0)
    calls, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        search(calls % PROBES)
        calls += 1
    return calls / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--seconds", type=float, default=2.0, help="per approach per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    n, dim = args.entries, args.dim
    config = MatcherConfig(finger_dim=dim)
    vectors = unit_rows(rng, n, dim)
    group = rng.choice(len(GROUP_SHARES), n, p=GROUP_SHARES).astype(np.uint8)
    member_state = rng.integers(0, MEMBER_STATES, n).astype(np.uint8)
    marked = rng.random(n) < MARKED_SHARE

    gallery = Gallery(config)
    start = time.perf_counter()
    gallery.add_many(
        (i, as_templates(vectors[i], dim), EntryMeta(int(g), int(ms), bool(mark)))
        for i, (g, ms, mark) in enumerate(zip(group, member_state, marked, strict=True))
    )
    add_seconds = time.perf_counter() - start

    # Probes: noisy mates of gallery entries, so every search has a hit to return.
    mates = rng.choice(n, PROBES, replace=False)
    noisy = vectors[mates] + rng.normal(0, 0.5 / math.sqrt(dim), (PROBES, FINGERS * dim))
    probes = [as_templates(v.astype(np.float32), dim) for v in noisy]
    per_finger = noisy.reshape(PROBES, FINGERS, dim)
    per_finger /= np.linalg.norm(per_finger, axis=2, keepdims=True)
    prepared = per_finger.reshape(PROBES, -1).astype(np.float32)
    radius = config.finger_threshold * math.sqrt(FINGERS) - 1e-5

    eligible = (
        np.isin(group, list(ELIGIBLE.groups))
        | (np.isin(group, list(ELIGIBLE.marked_only_groups)) & marked)
    ) & (member_state != ELIGIBLE.exclude_member_state)

    flat = gallery._fingers  # the Gallery's own index: no second copy of the vectors
    per_group = []
    for g in range(len(GROUP_SHARES)):
        rows = np.flatnonzero(group == g)
        index = faiss.IndexFlatIP(FINGERS * dim)
        index.add(vectors[rows])
        per_group.append((index, rows))

    def unfiltered(i: int) -> object:
        return flat.range_search(prepared[i : i + 1], radius)

    def selectors(i: int) -> npt.NDArray[np.int64]:
        mask = (
            np.isin(group, list(ELIGIBLE.groups))
            | (np.isin(group, list(ELIGIBLE.marked_only_groups)) & marked)
        ) & (member_state != ELIGIBLE.exclude_member_state)
        bits = np.packbits(mask, bitorder="little")
        selector = faiss.IDSelectorBitmap(bits.size, faiss.swig_ptr(bits))  # keep a reference
        params = faiss.SearchParameters()
        params.sel = selector
        _, _, rows = flat.range_search(prepared[i : i + 1], radius, params=params)
        return np.asarray(rows, dtype=np.int64)

    def groups(i: int) -> npt.NDArray[np.int64]:
        found = []
        for g in sorted(ELIGIBLE.groups | ELIGIBLE.marked_only_groups):
            index, rows = per_group[g]
            _, _, hits = index.range_search(prepared[i : i + 1], radius)
            entries = rows[hits]
            keep = member_state[entries] != ELIGIBLE.exclude_member_state
            if g not in ELIGIBLE.groups:
                keep &= marked[entries]
            found.append(entries[keep])
        return np.concatenate(found)

    def through_gallery(i: int) -> SearchOutcome:
        return gallery.search(probes[i], ELIGIBLE)

    # Sanity: the approaches agree (entry ids are row numbers here).
    for i in range(PROBES):
        found = set(selectors(i).tolist())
        assert found == set(groups(i).tolist()) == {h.entry_id for h in through_gallery(i).hits}

    approaches: dict[str, Callable[[int], object]] = {
        "unfiltered": unfiltered,
        "selectors": selectors,
        "per_group": groups,
        "gallery_search": through_gallery,
    }
    samples: dict[str, list[float]] = {name: [] for name in approaches}
    for _ in range(args.rounds):  # interleaved, so drift hits every approach alike
        for name, search in approaches.items():
            samples[name].append(rate(search, args.seconds))
    results = {name: statistics.median(values) for name, values in samples.items()}

    batch = probes[:32]
    batch_eligible = [ELIGIBLE] * len(batch)
    results["search_loop_32"] = len(batch) * rate(
        lambda _: [gallery.search(p, ELIGIBLE) for p in batch], args.seconds
    )
    results["search_many_32"] = len(batch) * rate(
        lambda _: gallery.search_many(batch, batch_eligible), args.seconds
    )
    results["gallery_search_2_threads"] = two_threads(through_gallery, args.seconds)

    report = {
        "entries": n,
        "finger_dim": dim,
        "excluded_share": round(1 - float(eligible.mean()), 3),
        "add_many_seconds": round(add_seconds, 2),
        "faiss_threads": faiss.omp_get_max_threads(),
        "searches_per_second": {k: round(v, 1) for k, v in results.items()},
        "ratios": {
            "selectors / per_group": round(results["selectors"] / results["per_group"], 2),
            "gallery_search / per_group": round(
                results["gallery_search"] / results["per_group"], 2
            ),
            "selectors / unfiltered": round(results["selectors"] / results["unfiltered"], 2),
            "search_many / search loop": round(
                results["search_many_32"] / results["search_loop_32"], 2
            ),
            "2 threads / 1 thread": round(
                results["gallery_search_2_threads"] / results["gallery_search"], 2
            ),
        },
    }
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")


def as_templates(row: npt.NDArray[np.float32], dim: int) -> Templates:
    return Templates(fingers={p + 1: row[p * dim : (p + 1) * dim] for p in range(FINGERS)})


def two_threads(search: Callable[[int], object], seconds: float) -> float:
    """Total searches/s of two threads searching at once (the gallery takes a shared lock)."""
    counts = [0, 0]
    stop = time.perf_counter() + seconds

    def worker(slot: int) -> None:
        while time.perf_counter() < stop:
            search((counts[slot] * 2 + slot) % PROBES)
            counts[slot] += 1

    threads = [threading.Thread(target=worker, args=(slot,)) for slot in (0, 1)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.perf_counter() - start)


if __name__ == "__main__":
    main()
