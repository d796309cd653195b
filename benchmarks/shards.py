"""The gallery in shard servers against the embedded engine, on one machine, in one run.

Synthetic datasets (ten 128-d fingers and a 512-d face each, random: impostor scores are those
of unrelated people) are generated in blocks of 64 rows from per-block seeds, so nothing has to
keep the raw vectors: a chunk is generated, pushed to every shard configuration through the
shard protocol's Apply (as the writer pushes changes) and to the embedded engine, then
dropped. Any row can be generated again on demand, which is how
  - mated probes are made (rows chosen in advance, plus capture noise; strangers are rows past
    the gallery's end), and
  - every gallery (embedded and shards) gets a template source for its exact re-checks, as the
    service's store is: re-checks per search are counted (shards report theirs in each reply).
Measured in the same run:
  1. the embedded engine (matcher.Gallery, fast index) searching batches of 64 probes;
  2. P = 1, 2, 4 shard processes (one partition each) searched through RemoteGallery (the
     writer's fan-out code): throughput and batch latency, the ratio to the embedded engine
     just before, and at P = 1 batches alternating between the two (drift cancels out);
  3. memory per partition (the shard process's RSS after filling);
  4. agreement: decisions and hits of every configuration against the embedded engine, and,
     with --exact-sample K, against exact search of K probes over the whole gallery, streamed
     in a process of its own (an exact matcher.Gallery per 20,480 rows, hits merged);
  5. exact re-checks per search.
Throughput sections take the quiet lock exclusively (fcntl, --lock; each section stays well
under 15 minutes), the rest holds it shared. Without the embedded engine (--no-embedded, for
10,000,000 datasets) agreement is against the exact sample only.

    .venv/bin/python benchmarks/shards.py --datasets 100000 --searches 1280
    .venv/bin/python benchmarks/shards.py --datasets 1000000 --searches 640 --rounds 1 \
        --exact-sample 128
    .venv/bin/python benchmarks/shards.py --datasets 10000000 --partitions 4 --no-embedded \
        --exact-sample 128 --searches 256 --rounds 1 --fill local
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import fcntl
import functools
import itertools
import json
import multiprocessing
import os
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent import futures
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

import matcher  # noqa: E402

_BATCH = 64
_FILL = 2_048  # rows per Apply (whole blocks of every lane)
_BLOCK = 64
_LANES = 4
_SEED = 20261201
_EVERYONE = matcher.Eligibility(groups=frozenset({1}))
_META = matcher.EntryMeta(group=1, member_state=0)


@functools.lru_cache(maxsize=16)
def block_vectors(lane: int, number: int, config: matcher.MatcherConfig
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Block `number` of lane `lane`: fingers (_BLOCK, 10, d) and faces (_BLOCK, f), from the
    block's own seed, the same on every call whatever the gallery's size (blocks past the
    gallery's end hold strangers). Row r lies in lane r % _LANES, at r // _LANES within it, so
    the rows of partition p of P (r mod P = p, P dividing _LANES) are whole lanes: a shard
    can generate its own rows and no others. A generator call per block of 64 rows costs a
    quarter of one per row (at 10,000,000 rows per-row generation alone took most of an
    hour), while a re-check, which asks for single rows, still costs only a block (about as
    much as reading a row back from the store)."""
    rng = np.random.default_rng((_SEED, 2, lane, number))
    fingers = rng.standard_normal((_BLOCK, 10, config.finger_dim), dtype=np.float32)
    fingers *= (rng.uniform(0.6, 1.4, (_BLOCK, 10, 1)).astype(np.float32)
                / np.linalg.norm(fingers, axis=2, keepdims=True))
    faces = rng.standard_normal((_BLOCK, config.face_dim), dtype=np.float32)
    faces *= np.float32(0.9) / np.linalg.norm(faces, axis=1, keepdims=True)
    fingers.flags.writeable = False
    faces.flags.writeable = False
    return fingers, faces


def row_vectors(row: int, config: matcher.MatcherConfig) -> tuple[np.ndarray, np.ndarray]:
    """Row `row`'s fingers (10, d) and face (f,): the same on every call."""
    at = row // _LANES
    fingers, faces = block_vectors(row % _LANES, at // _BLOCK, config)
    return fingers[at % _BLOCK].copy(), faces[at % _BLOCK].copy()


def block_rows(lane: int, number: int, datasets: int, config: matcher.MatcherConfig
               ) -> list[tuple[int, matcher.Templates, matcher.EntryMeta]]:
    """The gallery's rows in block `number` of lane `lane` (fewer, or none, at the end)."""
    fingers, faces = block_vectors(lane, number, config)
    first = number * _BLOCK
    return [(lane + _LANES * at, templates(fingers[at - first], faces[at - first]), _META)
            for at in range(first, first + _BLOCK) if lane + _LANES * at < datasets]


def partition_rows(datasets: int, partition: int, partitions: int,
                   config: matcher.MatcherConfig
                   ) -> Iterator[tuple[int, matcher.Templates, matcher.EntryMeta]]:
    """Every row of partition `partition` of `partitions` (row mod partitions), lane by lane."""
    if _LANES % partitions:
        raise ValueError(f"--fill local needs partitions dividing {_LANES}")
    blocks = -(-datasets // (_LANES * _BLOCK))
    for lane in range(partition, _LANES, partitions):
        for number in range(blocks):
            yield from block_rows(lane, number, datasets, config)


def templates(fingers: np.ndarray, face: np.ndarray) -> matcher.Templates:
    return matcher.Templates({p + 1: fingers[p] for p in range(10)}, face)


def row_templates(row: int, config: matcher.MatcherConfig) -> matcher.Templates:
    return templates(*row_vectors(row, config))


def regenerate(config: matcher.MatcherConfig) -> matcher.TemplateSource:
    """The template source of a synthetic gallery: any row, generated again."""
    def source(ids: Sequence[int]) -> dict[int, matcher.Templates]:
        return {int(i): row_templates(int(i), config) for i in ids}
    return source


def make_probes(datasets: int, count: int, config: matcher.MatcherConfig
                ) -> tuple[list[matcher.Templates], list[int | None]]:
    """Half mated (another capture of a stored row, rows chosen in advance), half strangers
    (rows past the gallery's end)."""
    rng = np.random.default_rng((_SEED + 1, 0))
    made: list[matcher.Templates] = []
    mates: list[int | None] = []
    for row in rng.choice(datasets, count // 2, replace=False).tolist():
        fingers, face = row_vectors(row, config)
        noise = rng.standard_normal(fingers.shape, dtype=np.float32) * np.float32(0.06)
        made.append(templates(fingers + noise, face))
        mates.append(row)
    for n in range(count - count // 2):
        made.append(row_templates(datasets + n, config))
        mates.append(None)
    return made, mates


def chunks(datasets: int, config: matcher.MatcherConfig
           ) -> Iterator[list[tuple[int, matcher.Templates, matcher.EntryMeta]]]:
    """The gallery in chunks of _FILL consecutive rows."""
    per_chunk = _FILL // (_LANES * _BLOCK)
    for first in range(0, -(-datasets // (_LANES * _BLOCK)), per_chunk):
        yield [row for number in range(first, first + per_chunk) for lane in range(_LANES)
               for row in block_rows(lane, number, datasets, config)]


def _shard_main(partition: int, partitions: int, address: str, database: str, index: str,
                fill: int, filled: Any) -> None:
    os.environ["ABIS_LOG_LEVEL"] = "WARNING"
    from service.crypto import MasterKey
    from service.logging_setup import configure_logging
    from service.runtime import make_gallery, matcher_config
    from service.settings import Settings
    from service.shard.partition import Partition
    from service.shard.server import serve
    from service.store.database import make_engine, make_sessions

    configure_logging("WARNING")
    settings = Settings(index=index)
    sessions = make_sessions(make_engine(database))
    config = matcher_config(settings)
    gallery = make_gallery(settings, regenerate(config))
    part = Partition(partition, partitions, gallery, sessions, MasterKey(os.urandom(32)))
    if fill:
        threading.Thread(target=_fill_locally, args=(part, fill, config, filled),
                         daemon=True).start()
    serve(part, address, None)


def _fill_locally(part: Any, datasets: int, config: matcher.MatcherConfig, filled: Any) -> None:
    """--fill local: once the (empty) partition is loaded, add its own rows, generated here,
    as a load from the store at startup would (no Apply, no protobuf), then say so."""
    part.ready.wait()
    started, added = time.perf_counter(), 0
    rows = partition_rows(datasets, part.partition, part.partitions, config)
    while batch := list(itertools.islice(rows, _FILL)):  # small: four shards fill at once
        added += part.gallery.add_many(batch)
        if added % 500_000 < _FILL:
            print(f"  partition {part.partition}: {added:,} rows "
                  f"({time.perf_counter() - started:,.0f} s, load {_load()})", flush=True)
    filled.set()


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


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


class QuietLock:
    """The machine's quiet lock: shared for the whole run, exclusive around timed sections."""

    def __init__(self, path: Path | None) -> None:
        self._fd = None if path is None else os.open(path, os.O_RDWR | os.O_CREAT)
        self._take(fcntl.LOCK_SH)

    def _take(self, mode: int) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, mode)

    @contextlib.contextmanager
    def exclusive(self, wait: float = 1200.0) -> Iterator[str]:
        """Exclusive for the block if obtained within `wait` seconds (other sessions' shared
        holds come and go); else the block runs under the shared hold, and says so."""
        held = "none" if self._fd is None else "shared (exclusive not obtained)"
        deadline = time.monotonic() + wait
        while self._fd is not None:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                held = "exclusive"
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.5)
        try:
            yield held
        finally:
            self._take(fcntl.LOCK_SH)


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


class Cluster:
    """P shard processes (one partition each) and the writer's fan-out client to them."""

    def __init__(self, partitions: int, database: str, index: str, fill: int = 0) -> None:
        """With `fill`, each shard generates and adds its own partition of `fill` rows once
        loaded (--fill local); `wait_filled` waits for them."""
        from service.settings import Settings
        from service.shard.remote import RemoteGallery

        self.partitions = partitions
        self.seq = 0
        context = multiprocessing.get_context("spawn")
        addresses = [f"127.0.0.1:{_free_port()}" for _ in range(partitions)]
        self.filled = [context.Event() for _ in range(partitions)]
        self.processes = [context.Process(target=_shard_main, args=(
            p, partitions, addresses[p], database, index, fill, self.filled[p]), daemon=True)
            for p in range(partitions)]
        started = time.perf_counter()
        for process in self.processes:
            process.start()
        settings = Settings(shards=",".join(addresses), shard_timeout_seconds=300)
        deadline = time.monotonic() + 180
        while True:
            with contextlib.suppress(Exception):
                remote = RemoteGallery.connect(settings, epoch=1)
                if not any(r.stale for group in remote._partitions for r in group):
                    break
                remote.close()
            if time.monotonic() > deadline:
                raise RuntimeError("shards did not start")
            time.sleep(0.5)
        self.remote = remote
        self._started = started
        self.fill_seconds = 0.0
        self._senders = futures.ThreadPoolExecutor(max_workers=partitions)

    def wait_filled(self) -> None:
        for process, event in zip(self.processes, self.filled, strict=True):
            while not event.wait(10):
                if not process.is_alive():
                    raise RuntimeError(f"a shard died while filling ({process.exitcode})")
        self.fill_seconds = time.perf_counter() - self._started

    def push(self, chunk: list[tuple[int, matcher.Templates, matcher.EntryMeta]]) -> None:
        """One Apply per partition, sent to all partitions at once (as the writer does)."""
        from service.shard import codec
        from service.shard.protocol import shard_pb2 as pb
        from service.writer.commands import AddEntry

        t0 = time.perf_counter()
        requests = [pb.ApplyRequest(epoch=1, from_seq=self.seq, upto_seq=self.seq + 1, changes=[
            codec.change_to_pb(AddEntry(row, entry, meta))
            for row, entry, meta in chunk if row % self.partitions == p])
            for p in range(self.partitions)]
        sent = [self._senders.submit(group[0].apply, request, timeout=600)
                for group, request in zip(self.remote._partitions, requests, strict=True)]
        for reply in sent:
            reply.result()
        self.seq += 1
        self.fill_seconds += time.perf_counter() - t0

    def search(self, part: list[matcher.Templates], eligibles: list[matcher.Eligibility]
               ) -> list[matcher.SearchOutcome]:
        return self.remote.search(part, eligibles, min_seq=self.seq).outcomes

    def rechecked(self) -> int:
        """Re-checks so far, summed over the partitions (an empty search reports them)."""
        from service.shard.protocol import shard_pb2 as pb

        return sum(int(group[0].search(pb.SearchRequest(epoch=1, min_seq=self.seq),
                                       timeout=60).rechecked)
                   for group in self.remote._partitions)

    def rss_mib(self) -> list[float]:
        return [round(_rss_mib(process.pid or 0), 1) for process in self.processes]

    def close(self) -> None:
        self._senders.shutdown()
        self.remote.close()
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.join(30)


_EXACT_ROWS = 20_480  # rows per exact gallery: a gallery per 2,048 rows spent more time being
#                      built than searched


def exact_answers(datasets: int, searches: int, sample: list[int]
                  ) -> tuple[list[frozenset[int]], float]:
    """Exact search of the sample probes over the whole gallery, streamed: rows generated again
    block by block, an exact matcher.Gallery per 20,480 rows, hits merged across them (the merge
    sharding does). Run in a process of its own, beside the fill, so that it does not share the
    filling process's interpreter lock. Returns the hit sets and the seconds it took."""
    t0 = time.perf_counter()
    config = matcher.MatcherConfig()
    batch, _ = make_probes(datasets, searches, config)
    probes = [batch[i] for i in sample]
    hits: list[set[int]] = [set() for _ in probes]
    pending: list[tuple[int, matcher.Templates, matcher.EntryMeta]] = []
    for number, chunk in enumerate(chunks(datasets, config)):
        pending.extend(chunk)
        if len(pending) >= _EXACT_ROWS or (number + 1) * _FILL >= datasets:
            gallery = matcher.Gallery(config)
            gallery.add_many(pending)
            pending = []
            for found, outcome in zip(hits, gallery.search_many(
                    probes, [_EVERYONE] * len(probes)), strict=True):
                found.update(hit.entry_id for hit in outcome.hits)
    return [frozenset(found) for found in hits], time.perf_counter() - t0


def agreement(found: list[frozenset[int]], expected: list[frozenset[int]]) -> dict[str, Any]:
    """Shares of probes with the same decision and the same hits, and, for each probe whose
    hits differ, the synthetic row ids found only here and only in the reference."""
    pairs = list(zip(found, expected, strict=True))
    return {"same_decisions": round(sum(bool(a) == bool(b) for a, b in pairs) / len(pairs), 4),
            "same_hits": round(sum(a == b for a, b in pairs) / len(pairs), 4),
            "differing": [{"probe": n, "only_here": sorted(a - b), "only_reference": sorted(b - a)}
                          for n, (a, b) in enumerate(pairs) if a != b]}


def mates_found(hits: list[frozenset[int]], mates: list[int | None]) -> str:
    mated = [(found, mate) for found, mate in zip(hits, mates, strict=False) if mate is not None]
    return f"{sum(mate in found for found, mate in mated)}/{len(mated)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=100_000)
    parser.add_argument("--searches", type=int, default=1280)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--partitions", type=int, action="append", default=[])
    parser.add_argument("--index", choices=["fast", "exact"], default="fast")
    parser.add_argument("--no-embedded", action="store_true",
                        help="no embedded engine (its memory would not fit at 10M)")
    parser.add_argument("--exact-sample", type=int, default=0,
                        help="probes (half mated) checked against streamed exact search")
    parser.add_argument("--fill", choices=["apply", "local"], default="apply",
                        help="apply: chunks pushed through the shard protocol's Apply, as the "
                             "writer does; local: each shard generates and adds its own rows "
                             "at startup, as a load from the store does (10M: no protobuf)")
    parser.add_argument("--lock", type=Path, default=None,
                        help="the quiet lock (e.g. /work/coord/quiet.lock)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args()
    lock = QuietLock(args.lock)
    partitions = args.partitions or [1, 2, 4]
    config = matcher.MatcherConfig()
    started = time.perf_counter()
    batch, mates = make_probes(args.datasets, args.searches, config)
    half = args.exact_sample // 2
    sample = list(range(half)) + list(range(len(batch) // 2, len(batch) // 2 + half))
    print(f"{args.datasets:,} synthetic datasets, {len(batch):,} probes (half mated), "
          f"configurations P={partitions}, {os.cpu_count()} cores, shared machine", flush=True)
    results: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join(sys.argv), "datasets": args.datasets, "searches": len(batch),
        "index": args.index, "cpu_count": os.cpu_count(),
        "filled": ("generated per block of 64 rows (own seed); " + (
            "pushed in chunks of 2,048 through the shard protocol's Apply" if args.fill == "apply"
            else "each shard generated and added its own partition's rows once loaded, as a "
                 "load from the store does (no Apply)")
            + "; every gallery re-checks from a source that regenerates rows"),
        "sharded": [],
    }
    embedded = (None if args.no_embedded else
                matcher.Gallery(config, index=args.index, source=regenerate(config)))
    oracle = futures.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
    exact = (oracle.submit(exact_answers, args.datasets, args.searches, sample)
             if sample else None)
    with tempfile.TemporaryDirectory() as tmp:
        from service.store.database import make_engine
        from service.store.schema import upgrade

        database = f"sqlite:///{Path(tmp) / 'empty.db'}"
        upgrade(make_engine(database))
        local = args.datasets if args.fill == "local" else 0
        clusters = [Cluster(count, database, args.index, local) for count in partitions]
        pool = futures.ThreadPoolExecutor(max_workers=len(clusters))
        try:
            fill_started, embedded_seconds, generate_seconds = time.perf_counter(), 0.0, 0.0
            t0 = time.perf_counter()
            pushed: list[futures.Future[None]] = []
            for number, chunk in enumerate(chunks(args.datasets if embedded is not None or
                                                  not local else 0, config)):
                generate_seconds += time.perf_counter() - t0
                for push in pushed:  # one chunk in flight per configuration: the next one is
                    push.result()    # generated while the shards add this one
                pushed = [] if local else [pool.submit(cluster.push, chunk)
                                           for cluster in clusters]
                if embedded is not None:  # while the shards add the chunk (other processes)
                    t1 = time.perf_counter()
                    embedded.add_many(chunk)
                    embedded_seconds += time.perf_counter() - t1
                if number % 50 == 0:
                    done = min(args.datasets, (number + 1) * _FILL)
                    print(f"  filled {done:,} ({time.perf_counter() - fill_started:,.0f} s, "
                          f"load {_load()})", flush=True)
                t0 = time.perf_counter()
            for push in pushed:
                push.result()
            for cluster in clusters if local else []:
                cluster.wait_filled()
            results["fill"] = {
                "seconds": round(time.perf_counter() - fill_started, 1),
                "generate_seconds": round(generate_seconds, 1),
                "embedded_add_seconds": round(embedded_seconds, 1),
                "per_configuration_seconds": {str(c.partitions): round(c.fill_seconds, 1)
                                              for c in clusters},
                "load_average": _load()}
            print(f"filled in {results['fill']['seconds']:,} s", flush=True)
            expected, exact_seconds = exact.result() if exact else (None, 0.0)
            oracle.shutdown()
            results["fill"]["exact_sample_seconds_after_fill"] = round(
                time.perf_counter() - fill_started - results["fill"]["seconds"], 1)
            results["fill"]["exact_sample_seconds"] = round(exact_seconds, 1)
            base_hits: list[frozenset[int]] | None = None
            if embedded is not None:
                with lock.exclusive() as held:
                    timed_search(embedded.search_many, batch[:_BATCH], 1)
                    before = embedded.rechecked
                    base_hits, rate, latencies = timed_search(embedded.search_many, batch,
                                                              args.rounds)
                    load = _load()
                results["embedded"] = {
                    "probes_per_second": round(rate, 1),
                    "batch_latency_ms_p50": round(1000 * float(np.median(latencies)), 1),
                    "batch_latency_ms_p95": round(1000 * float(np.percentile(latencies, 95)), 1),
                    "index_mib": round(embedded.nbytes() / 2**20, 1),
                    "rechecks_per_search": round((embedded.rechecked - before)
                                                 / (args.rounds * len(batch)), 3),
                    "mates_found": mates_found(base_hits, mates), "load_average": load,
                    "lock": held}
                if expected is not None:
                    results["embedded"]["against_exact_sample"] = agreement(
                        [base_hits[i] for i in sample], expected)
                print(f"embedded: {results['embedded']}", flush=True)
            for cluster in clusters:
                row = measure(cluster, embedded, batch, args.rounds, lock)
                hits = row.pop("_hits")
                row["mates_found"] = mates_found(hits, mates)
                if base_hits is not None:
                    row["against_embedded"] = agreement(hits, base_hits)
                if expected is not None:
                    row["against_exact_sample"] = agreement([hits[i] for i in sample], expected)
                results["sharded"].append(row)
                print(f"P={cluster.partitions}: {row}", flush=True)
        finally:
            pool.shutdown()
            for cluster in clusters:
                cluster.close()
    if expected is not None:
        results["exact_sample"] = {"probes": len(sample), "mated": half,
                                   "with_hits": sum(bool(h) for h in expected)}
    if embedded is not None:
        results["index_mib_per_million"] = round(embedded.nbytes() / 2**20 * 1e6
                                                 / args.datasets, 1)
    results["seconds"] = round(time.perf_counter() - started, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    size = (f"{args.datasets // 1_000_000}m" if args.datasets % 1_000_000 == 0
            else f"{args.datasets // 1000}k")
    path = args.out / f"shards-{size}-{dt.date.today().isoformat()}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {path} ({results['seconds']} s)")


def measure(cluster: Cluster, embedded: matcher.Gallery | None, batch: list[matcher.Templates],
            rounds: int, lock: QuietLock) -> dict[str, Any]:
    """Throughput and latency of one configuration (exclusive lock), re-checks and memory."""
    row: dict[str, Any] = {"partitions": cluster.partitions,
                           "fill_seconds": round(cluster.fill_seconds, 1)}
    with lock.exclusive() as held:
        row["lock"] = held
        if embedded is not None:  # the embedded baseline again, just before: rates drift
            _, near_rate, _ = timed_search(embedded.search_many, batch, rounds)
            row["embedded_probes_per_second_just_before"] = round(near_rate, 1)
        timed_search(cluster.search, batch[:_BATCH], 1)  # warm up channels and threads
        before = cluster.rechecked()
        hits, rate, latencies = timed_search(cluster.search, batch, rounds)
        rechecked = cluster.rechecked() - before
        if embedded is not None and cluster.partitions == 1:
            local, rpc = alternating(embedded.search_many, cluster.search, batch, rounds)
            row["alternating_batches"] = {"embedded_probes_per_second": round(local, 1),
                                          "rpc_probes_per_second": round(rpc, 1),
                                          "ratio": round(rpc / local, 3)}
        row["load_average"] = _load()
    row.update({
        "probes_per_second": round(rate, 1),
        "batch_latency_ms_p50": round(1000 * float(np.median(latencies)), 1),
        "batch_latency_ms_p95": round(1000 * float(np.percentile(latencies, 95)), 1),
        "rechecks_per_search": round(rechecked / (rounds * len(batch)), 3),
        "rss_mib_per_partition": cluster.rss_mib(),
        "_hits": hits})
    row["rss_mib_total"] = round(sum(row["rss_mib_per_partition"]), 1)
    if "embedded_probes_per_second_just_before" in row:
        row["ratio_to_embedded"] = round(rate / row["embedded_probes_per_second_just_before"], 3)
    return row


if __name__ == "__main__":
    main()
