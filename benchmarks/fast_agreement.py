"""Decision agreement of the fast index with the exact one, on an `abis synth` evaluation set.

Builds the exact gallery from DIR/load as `abis evaluate --in-process` does (every dataset the
quality gate accepts), a fast gallery holding the same entries (re-scoring the candidates it
can report from the exact gallery, as the service does from its store), searches every probe of
DIR/probes with both at the default thresholds, as a transmission compared with every stored
category would be, and prints, in one run: searches/s of each (batches of 64), and for mated and
non-mated probes (the ground truth of DIR/truth) the share of hit / no-hit decisions on which the
fast index agrees with the exact one, and of searches with the same set of hits.

    .venv/bin/python benchmarks/fast_agreement.py /tmp/syn100k --subvector-dim 4 --subvector-dim 8
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import matcher  # noqa: E402
from tooling.evaluation.local import build_gallery, read_probes  # noqa: E402
from tooling.synth.dataset import read_manifest, read_records  # noqa: E402

_BATCH = 64
# Every entry is a candidate (as in `abis evaluate`): the fast gallery's copies carry no groups.
_EVERYONE = matcher.Eligibility(groups=frozenset(range(256)))


def probes(directory: Path, config: matcher.MatcherConfig) -> tuple[list[matcher.Templates],
                                                                     list[bool]]:
    manifest = read_manifest(directory)
    mated = {record["probe_id"]: bool(record["mated"]) for record in
             read_records(directory / "truth", manifest["truth"]["probes"])}
    found = list(read_probes(directory, config))
    return [templates for _, templates in found], [mated[probe_id] for probe_id, _ in found]


def search_all(gallery: matcher.Gallery, batch: list[matcher.Templates]
               ) -> tuple[list[frozenset[int]], float]:
    hits: list[frozenset[int]] = []
    started = time.perf_counter()
    for lo in range(0, len(batch), _BATCH):
        part = batch[lo:lo + _BATCH]
        for outcome in gallery.search_many(part, [_EVERYONE] * len(part)):
            hits.append(frozenset(hit.entry_id for hit in outcome.hits))
    return hits, len(batch) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--subvector-dim", type=int, action="append", default=[])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    config = matcher.MatcherConfig()
    started = time.perf_counter()
    exact, _ = build_gallery(args.directory, config, lambda _: None)
    print(f"exact gallery of {len(exact):,} built in {time.perf_counter() - started:.0f} s",
          flush=True)
    batch, mated = probes(args.directory, config)
    truth, exact_rate = search_all(exact, batch)
    figures: dict[str, object] = {"gallery": len(exact), "probes": len(batch),
                                  "mated": sum(mated), "exact_per_s": round(exact_rate, 1)}
    print(f"exact: {exact_rate:.0f} searches/s, {len(batch)} probes ({sum(mated)} mated)")
    ids = exact.entries()[0].tolist()
    for dim in args.subvector_dim or [4]:
        fast = matcher.Gallery(config, index="fast", source=exact.templates_of,
                               fast=matcher.FastIndexParams(subvector_dim=dim))
        for lo in range(0, len(ids), 8192):
            chunk = ids[lo:lo + 8192]
            held = exact.templates_of(chunk)
            fast.add_many((i, held[i], matcher.EntryMeta(group=0, member_state=0))
                          for i in chunk)
        found, rate = search_all(fast, batch)
        result: dict[str, object] = {
            "per_s": round(rate, 1), "x_exact": round(rate / exact_rate, 2),
            "rechecked_per_search": round(fast.rechecked / len(batch), 4)}
        for label, want in (("mated", True), ("non_mated", False)):
            pairs = [(f, t) for f, t, m in zip(found, truth, mated, strict=True) if m is want]
            result[f"decisions_agree_{label}"] = round(
                sum(bool(f) == bool(t) for f, t in pairs) / max(1, len(pairs)), 4)
            result[f"same_hits_{label}"] = round(
                sum(f == t for f, t in pairs) / max(1, len(pairs)), 4)
        figures[f"fast/{dim}"] = result
        print(f"fast/{dim}: {json.dumps(result)}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
