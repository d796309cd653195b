"""The ceiling of an exhaustive 4-bit PQ scan on this machine, against the exact engine's core.

The fast index cannot search faster than FAISS fast-scan reads its codes, whatever is done
around the scan. This program builds, from random unit vectors of ten 128-d fingers, a
fast-scan index of N rows for each sub-vector size asked (320 sub-quantizers at 4 dimensions,
the default; 160 at 8), times batched searches (64 probes, top 64) and, in the same run, the
product that dominates the exact engine (`matcher/_dense.py`: float32 GEMM of the batch with the
gallery, 16,384 rows at a time). It prints searches/s for each and their ratio, so a target of
"k x exact" or "n searches/s" can be checked against what the scan alone allows.

    .venv/bin/python benchmarks/scan_ceiling.py --rows 1000000
"""

from __future__ import annotations

import argparse
import json
import time

import faiss
import numpy as np

_FINGERS_DIM = 10 * 128
_BATCH = 64
_CHUNK = 16_384


def _units(rng: np.random.Generator, rows: int) -> np.ndarray:
    x = rng.standard_normal((rows, _FINGERS_DIM), dtype=np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def _rate(search, batches: int) -> float:  # type: ignore[no-untyped-def]
    search()  # warm up
    start = time.perf_counter()
    for _ in range(batches):
        search()
    return batches * _BATCH / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--subvector-dim", type=int, action="append", default=None)
    parser.add_argument("--batches", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    probes = _units(rng, _BATCH)
    gallery = np.concatenate([_units(rng, min(_CHUNK * 8, args.rows - start))
                              for start in range(0, args.rows, _CHUNK * 8)])

    def exact() -> None:
        for start in range(0, args.rows, _CHUNK):
            np.dot(gallery[start:start + _CHUNK], probes.T)

    figures: dict[str, float] = {"exact_dense_product": _rate(exact, args.batches)}
    print(f"exact engine's dense product: {figures['exact_dense_product']:.1f} searches/s",
          flush=True)
    for dsub in args.subvector_dim or [4, 8]:
        index = faiss.IndexPQFastScan(_FINGERS_DIM, _FINGERS_DIM // dsub, 4,
                                      faiss.METRIC_INNER_PRODUCT)
        index.train(gallery[:20_000])
        index.add(gallery)
        rate = _rate(lambda index=index: index.search(probes, 64), args.batches)
        figures[f"fast_scan_subvector_{dsub}"] = rate
        print(f"fast-scan, {index.M} sub-quantizers (subvector {dsub}): {rate:.1f} searches/s,"
              f" {rate / figures['exact_dense_product']:.2f}x the dense product", flush=True)
        del index
    print(json.dumps({"rows": args.rows, "batch": _BATCH, "searches_per_s": figures}))


if __name__ == "__main__":
    main()
