"""The gallery in shard servers against the embedded engine, on one machine, in one run.

Builds N synthetic datasets (ten 128-d fingers and a 512-d face each, random: impostor scores
are those of unrelated people) and probes (half mated: a stored dataset plus capture noise;
half strangers), then measures, in the same run:
  1. the embedded engine (matcher.Gallery, fast index) searching batches of 64 probes;
  2. the RPC path at P = 1: one shard server process holding the same N, searched through
     RemoteGallery (the writer's fan-out code) -> the ratio to (1), both as separate runs and
     with batches alternating between the two (drift of the shared machine cancels out);
  3. P = 2 and P = 4 (each partition one shard process): throughput and batch latency;
  4. memory per partition (the shard process's RSS after filling, and its index's bytes);
  5. exact re-checks per search (candidates re-scored from the template source) as the
     gallery grows, with the embedded engine and an in-memory source.
The shard galleries are filled directly through the shard protocol's Apply (as the writer
pushes changes), not through the store: the shards run over an empty database, so neither side
re-checks from a store in (1)-(4); (5) measures the re-checks separately. Decisions of every
configuration are compared with the embedded engine's.

    .venv/bin/python benchmarks/shards.py --datasets 100000 --searches 1280
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

import matcher  # noqa: E402

_BATCH = 64
_FILL = 2_000
_EVERYONE = matcher.Eligibility(groups=frozenset({1}))
_META = matcher.EntryMeta(group=1, member_state=0)


def _unit(rng: np.random.Generator, rows: int, dim: int) -> np.ndarray:
    vectors = rng.standard_normal((rows, dim), dtype=np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def dataset(rng: np.random.Generator, count: int, config: matcher.MatcherConfig
            ) -> tuple[np.ndarray, np.ndarray]:
    """Fingers (count, 10, d) and faces (count, f), with quality norms in 0.6..1.4."""
    fingers = _unit(rng, count * 10, config.finger_dim).reshape(count, 10, config.finger_dim)
    fingers *= rng.uniform(0.6, 1.4, (count, 10, 1)).astype(np.float32)
    faces = _unit(rng, count, config.face_dim) * np.float32(0.9)
    return fingers, faces


def templates(fingers: np.ndarray, face: np.ndarray) -> matcher.Templates:
    return matcher.Templates({p + 1: fingers[p] for p in range(10)}, face)


def probes(rng: np.random.Generator, fingers: np.ndarray, faces: np.ndarray, count: int,
           config: matcher.MatcherConfig) -> tuple[list[matcher.Templates], list[int | None]]:
    """Half mated (another capture of a stored dataset), half strangers."""
    made: list[matcher.Templates] = []
    mates: list[int | None] = []
    strangers_f, strangers_face = dataset(rng, count - count // 2, config)
    for _ in range(count // 2):
        row = int(rng.integers(len(fingers)))
        noise = rng.standard_normal(fingers[row].shape, dtype=np.float32) * np.float32(0.06)
        made.append(templates(fingers[row] + noise, faces[row]))
        mates.append(row)
    for n in range(len(strangers_f)):
        made.append(templates(strangers_f[n], strangers_face[n]))
        mates.append(None)
    return made, mates


def _shard_main(partition: int, partitions: int, address: str, database: str,
                index: str) -> None:
    os.environ["ABIS_LOG_LEVEL"] = "WARNING"
    from service.crypto import MasterKey
    from service.logging_setup import configure_logging
    from service.runtime import make_gallery
    from service.settings import Settings
    from service.shard.partition import Partition
    from service.shard.server import serve
    from service.store.database import make_engine, make_sessions

    configure_logging("WARNING")
    settings = Settings(index=index)  # type: ignore[arg-type]
    sessions = make_sessions(make_engine(database))
    part = Partition(partition, partitions, make_gallery(settings), sessions,
                     MasterKey(os.urandom(32)))
    serve(part, address, None)


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def timed_search(search: Any, batch: list[matcher.Templates], rounds: int
                 ) -> tuple[list[frozenset[int]], float, list[float]]:
    """Hits per probe, probes/s, and each batch's seconds."""
    hits: list[frozenset[int]] = []
    latencies: list[float] = []
    started = time.perf_counter()
    for _ in range(rounds):
        hits.clear()
        for lo in range(0, len(batch), _BATCH):
            part = batch[lo:lo + _BATCH]
            t0 = time.perf_counter()
            for outcome in search(part, [_EVERYONE] * len(part)):
                hits.append(frozenset(hit.entry_id for hit in outcome.hits))
            latencies.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - started
    return hits, rounds * len(batch) / elapsed, latencies


def alternating(first: Any, second: Any, batch: list[matcher.Templates], rounds: int
                ) -> tuple[float, float]:
    """Probes/s of two search functions measured batch by batch in turn, so that the machine's
    drift (other jobs on shared cores) weighs on both alike."""
    spent = [0.0, 0.0]
    for _ in range(rounds):
        for lo in range(0, len(batch), _BATCH):
            part = batch[lo:lo + _BATCH]
            for which, search in enumerate((first, second)):
                t0 = time.perf_counter()
                search(part, [_EVERYONE] * len(part))
                spent[which] += time.perf_counter() - t0
    return rounds * len(batch) / spent[0], rounds * len(batch) / spent[1]


def run_sharded(partitions: int, fingers: np.ndarray, faces: np.ndarray,
                batch: list[matcher.Templates], rounds: int, index: str, database: str,
                embedded: matcher.Gallery) -> dict[str, Any]:
    from service.settings import Settings
    from service.shard import codec
    from service.shard.protocol import shard_pb2 as pb
    from service.shard.remote import RemoteGallery
    from service.writer.commands import AddEntry

    context = multiprocessing.get_context("spawn")
    addresses = [f"127.0.0.1:{_free_port()}" for _ in range(partitions)]
    processes = [context.Process(target=_shard_main, args=(p, partitions, addresses[p],
                                                           database, index), daemon=True)
                 for p in range(partitions)]
    for process in processes:
        process.start()
    try:
        settings = Settings(shards=",".join(addresses), shard_timeout_seconds=120)
        deadline = time.monotonic() + 120
        while True:
            try:
                remote = RemoteGallery.connect(settings, epoch=1)
                if not any(r.stale for group in remote._partitions for r in group):
                    break
                remote.close()
            except Exception:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("shards did not start")
            time.sleep(0.5)
        started = time.perf_counter()
        seq = 0
        for lo in range(0, len(fingers), _FILL):
            rows = range(lo, min(lo + _FILL, len(fingers)))
            for p, replica in enumerate(group[0] for group in remote._partitions):
                changes = [codec.change_to_pb(AddEntry(row, templates(fingers[row], faces[row]),
                                                       _META))
                           for row in rows if row % partitions == p]
                replica.apply(pb.ApplyRequest(epoch=1, from_seq=seq, upto_seq=seq + 1,
                                              changes=changes), timeout=300)
            seq += 1
        fill_seconds = time.perf_counter() - started

        def search(part: list[matcher.Templates], eligibles: list[matcher.Eligibility]
                   ) -> list[matcher.SearchOutcome]:
            return remote.search(part, eligibles, min_seq=seq).outcomes

        timed_search(search, batch[:_BATCH], 1)  # warm up channels and threads
        hits, rate, latencies = timed_search(search, batch, rounds)
        memory = [_rss_mib(process.pid or 0) for process in processes]
        local_rate, rpc_rate = alternating(embedded.search_many, search, batch, rounds)
        remote.close()
        return {"partitions": partitions, "probes_per_second": round(rate, 1),
                "batch_latency_ms_p50": round(1000 * float(np.median(latencies)), 1),
                "batch_latency_ms_p95": round(1000 * float(np.percentile(latencies, 95)), 1),
                "fill_seconds": round(fill_seconds, 1),
                "rss_mib_per_partition": [round(m, 1) for m in memory],
                "alternating_batches": {"embedded_probes_per_second": round(local_rate, 1),
                                        "rpc_probes_per_second": round(rpc_rate, 1),
                                        "ratio": round(rpc_rate / local_rate, 3)},
                "_hits": hits}
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.join(30)


def rechecks(config: matcher.MatcherConfig, fingers: np.ndarray, faces: np.ndarray,
             sizes: list[int], batch: list[matcher.Templates]) -> list[dict[str, Any]]:
    """Exact re-checks per search with an in-memory source (the store, in the service)."""
    rows: list[dict[str, Any]] = []
    for size in sizes:
        def source(ids: Any) -> dict[int, matcher.Templates]:
            return {int(i): templates(fingers[int(i)], faces[int(i)]) for i in ids}

        gallery = matcher.Gallery(config, index="fast", source=source)
        gallery.add_many((row, templates(fingers[row], faces[row]), _META)
                         for row in range(size))
        before = gallery.rechecked
        for lo in range(0, len(batch), _BATCH):
            part = batch[lo:lo + _BATCH]
            gallery.search_many(part, [_EVERYONE] * len(part))
        rows.append({"gallery": size,
                     "rechecks_per_search": round((gallery.rechecked - before) / len(batch), 3)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=100_000)
    parser.add_argument("--searches", type=int, default=1280)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--partitions", type=int, action="append", default=[])
    parser.add_argument("--index", choices=["fast", "exact"], default="fast")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args()
    partitions = args.partitions or [1, 2, 4]
    config = matcher.MatcherConfig()
    rng = np.random.default_rng(20261130)
    started = time.perf_counter()
    fingers, faces = dataset(rng, args.datasets, config)
    batch, mates = probes(rng, fingers, faces, args.searches, config)
    print(f"{args.datasets:,} synthetic datasets, {len(batch):,} probes (half mated), "
          f"{os.cpu_count()} cores, shared machine", flush=True)

    embedded = matcher.Gallery(config, index=args.index)
    t0 = time.perf_counter()
    embedded.add_many((row, templates(fingers[row], faces[row]), _META)
                      for row in range(args.datasets))
    load_seconds = time.perf_counter() - t0
    timed_search(embedded.search_many, batch[:_BATCH], 1)
    base_hits, base_rate, base_lat = timed_search(embedded.search_many, batch, args.rounds)
    found = sum(1 for hits, mate in zip(base_hits, mates, strict=True)
                if mate is not None and mate in hits)
    print(f"embedded: {base_rate:,.1f} probes/s, batch p50 "
          f"{1000 * np.median(base_lat):.1f} ms; index {embedded.nbytes() / 2**20:,.1f} MiB; "
          f"mates found {found}/{sum(m is not None for m in mates)}", flush=True)

    results: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "datasets": args.datasets, "searches": len(batch), "index": args.index,
        "cpu_count": os.cpu_count(), "filled": "directly through the shard protocol's Apply",
        "embedded": {"probes_per_second": round(base_rate, 1),
                     "batch_latency_ms_p50": round(1000 * float(np.median(base_lat)), 1),
                     "index_mib": round(embedded.nbytes() / 2**20, 1),
                     "load_seconds": round(load_seconds, 1),
                     "mates_found": found},
        "sharded": [],
    }
    index_mib = embedded.nbytes() / 2**20
    with tempfile.TemporaryDirectory() as tmp:
        from service.store.database import make_engine
        from service.store.schema import upgrade

        database = f"sqlite:///{Path(tmp) / 'empty.db'}"
        upgrade(make_engine(database))
        for count in partitions:
            # The embedded baseline again, just before: the machine is shared, rates drift.
            _, near_rate, _ = timed_search(embedded.search_many, batch, args.rounds)
            row = run_sharded(count, fingers, faces, batch, args.rounds, args.index, database,
                              embedded)
            row["embedded_probes_per_second_just_before"] = round(near_rate, 1)
            hits = row.pop("_hits")
            row["same_decisions_as_embedded"] = round(sum(
                bool(a) == bool(b) for a, b in zip(hits, base_hits, strict=True)) / len(hits), 4)
            row["same_hits_as_embedded"] = round(sum(
                a == b for a, b in zip(hits, base_hits, strict=True)) / len(hits), 4)
            row["ratio_to_embedded"] = round(row["probes_per_second"] / near_rate, 3)
            results["sharded"].append(row)
            print(f"P={count}: {row['probes_per_second']:,.1f} probes/s "
                  f"({row['ratio_to_embedded']:.2f}x embedded), batch p50 "
                  f"{row['batch_latency_ms_p50']} ms p95 {row['batch_latency_ms_p95']} ms, "
                  f"alternating batches {row['alternating_batches']['ratio']:.2f}x; "
                  f"RSS/partition {row['rss_mib_per_partition']} MiB, same decisions "
                  f"{row['same_decisions_as_embedded']:.2%}", flush=True)
    del embedded
    sizes = sorted({max(1, args.datasets // 4), max(1, args.datasets // 2), args.datasets})
    results["rechecks"] = rechecks(config, fingers, faces, sizes, batch)
    for row in results["rechecks"]:
        print(f"re-checks per search at {row['gallery']:,}: {row['rechecks_per_search']}")
    results["index_mib_per_million"] = round(index_mib * 1e6 / args.datasets, 1)
    results["seconds"] = round(time.perf_counter() - started, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"shards-{args.datasets // 1000}k-{dt.date.today().isoformat()}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {path} ({results['seconds']} s)")


if __name__ == "__main__":
    main()
