"""One command for a load test: service up over a preloaded gallery, locust headless, report.

    .venv/bin/python -m loadtests.run --gallery 100000 --users 64 --duration 120s

1. A data directory per gallery size (default `.loadtest/gallery-<N>`; kept, so the next run
   starts from the preloaded gallery and its snapshot): keys, `abis db upgrade`.
2. `abis serve` (or `abis serve --workers N`) on a free loopback port, in its own process
   group. `--workers 0,2` measures both, one after the other over the same gallery, in one
   run (an A/B on a shared machine), and writes the comparison to benchmarks/results/.
3. Preload: gallery persons not yet loaded go in through `POST /v1/bulk/transmissions`
   (an EU operator key), one dataset each (see `loadtests.synthetic`).
4. locust headless with `loadtests/locustfile.py`; CSV, HTML report, then a PNG.
5. Checks: no failed request, no 5xx, and as many new audit events as requests (each bulk
   item is one more event). Exit status 1 when a check fails.
Everything started is stopped in a `finally`, by process group.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson

from loadtests.ceiling import engine_ceiling
from loadtests.mix import officer_pacing
from loadtests.processes import (
    cpu_seconds,
    thread_cpu_seconds,
    tree_cpu_seconds,
    used_between,
)
from loadtests.report import Row

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
ROLES = ("officer", "law_enforcement")
WRITER_THREAD = "abis-writer"  # the batch thread's OS name (service/writer/pipeline.py)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _log(message: str) -> None:
    print(f"[loadtest {dt.datetime.now():%H:%M:%S}] {message}", flush=True)


def service_env(data_dir: Path, database_url: str | None, port: int,
                extra: dict[str, str]) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ABIS_")}
    env.update(
        ABIS_DATA_DIR=str(data_dir),
        ABIS_MASTER_KEY_FILE=str(data_dir / "master.key"),
        ABIS_AUDIT_KEY_FILE=str(data_dir / "audit.key"),
        ABIS_HOST="127.0.0.1",
        ABIS_PORT=str(port),
    )
    if database_url:
        env["ABIS_DATABASE_URL"] = database_url
    env.update(extra)
    return env


def prepare_data_dir(data_dir: Path, env: dict[str, str]) -> dict[str, object]:
    """Keys files, schema, and the API keys the scenarios use (made once, kept in the dir)."""
    from service.audit.keys import generate_audit_key_file
    from service.crypto.master_key import generate_key_file

    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not (data_dir / "master.key").exists():
        generate_key_file(data_dir / "master.key")
    if not (data_dir / "audit.key").exists():
        generate_audit_key_file(data_dir / "audit.key")
    done = subprocess.run([PYTHON, "-m", "service", "db", "upgrade"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0:
        raise SystemExit(f"abis db upgrade failed: {done.stderr}")
    keys_file = data_dir / "loadtest-keys.json"
    if keys_file.exists():
        keys: dict[str, object] = orjson.loads(keys_file.read_bytes())
        return keys
    keys = _issue_keys(env)
    keys_file.write_bytes(orjson.dumps(keys))
    keys_file.chmod(0o600)
    return keys


def _issue_keys(env: dict[str, str]) -> dict[str, object]:
    from loadtests.synthetic import MEMBER_STATES
    from schemas.codes import Role
    from service.auth import issue_key
    from service.cli.common import open_sessions
    from service.settings import Settings

    settings = Settings(
        data_dir=Path(env["ABIS_DATA_DIR"]),
        database_url=env.get("ABIS_DATABASE_URL"),
        master_key_file=Path(env["ABIS_MASTER_KEY_FILE"]),
        audit_key_file=Path(env["ABIS_AUDIT_KEY_FILE"]),
    )
    sessions = open_sessions(settings)
    now = dt.datetime.now(dt.UTC)
    with sessions.begin() as session:
        def make(member_state: str, role: Role) -> str:
            return issue_key(session, member_state=member_state, role=role,
                             unit="load test", label="loadtest", now=now).key
        keys: dict[str, object] = {
            "officer": {ms: make(ms, Role.OFFICER) for ms in MEMBER_STATES},
            "law_enforcement": {ms: make(ms, Role.LAW_ENFORCEMENT) for ms in MEMBER_STATES[:4]},
            "supervisor": make("EU", Role.SUPERVISOR),
            "operator": make("EU", Role.OPERATOR),
        }
    sessions.kw["bind"].dispose()
    return keys


@contextlib.contextmanager
def process_group(args: list[str], env: dict[str, str],
                  log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A child in its own process group, always stopped (TERM, then KILL) on the way out."""
    with log.open("ab") as output:
        child = subprocess.Popen(args, env=env, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT,
                                 start_new_session=True)
        try:
            yield child
        finally:
            if child.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGTERM)
                try:
                    child.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(child.pid, signal.SIGKILL)
                    child.wait(timeout=10)


def wait_ready(url: str, child: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise SystemExit(f"abis serve exited with {child.returncode} (see service.log)")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise SystemExit(f"abis serve was not ready within {timeout:.0f} s")


async def _preload(url: str, key: str, first: int, last: int, chunk: int, connections: int,
                   progress: Path, deadline: float) -> int:
    """Load gallery persons [first, last) through the bulk endpoint; returns persons loaded."""
    from loadtests.synthetic import gallery_line

    done = first
    starts = list(range(first, last, chunk))
    started = time.monotonic()
    headers = {"authorization": f"Bearer {key}", "content-type": "application/x-ndjson"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=600) as client:
        for wave in range(0, len(starts), connections):
            if time.monotonic() > deadline:
                _log(f"preload time is up: testing over the {done:,} persons loaded so far")
                return done
            bodies = [
                b"".join(gallery_line(p) + b"\n" for p in range(start, min(start + chunk, last)))
                for start in starts[wave:wave + connections]
            ]
            answers = await asyncio.gather(*(
                client.post("/v1/bulk/transmissions", content=body) for body in bodies))
            for answer in answers:
                if answer.status_code != 200:
                    raise SystemExit(f"preload: bulk answered {answer.status_code}: "
                                     f"{answer.text[:300]}")
                summary = orjson.loads(answer.content.splitlines()[-1])
                if summary.get("kind") != "summary" or summary["refused"]:
                    raise SystemExit(f"preload: bulk chunk refused items: {summary}")
            done = min(starts[min(wave + connections, len(starts)) - 1] + chunk, last)
            progress.write_text(json.dumps({"persons": done}))
            rate = (done - first) / (time.monotonic() - started)
            _log(f"preloaded {done:,}/{last:,} persons ({rate:.0f}/s)")
    return done


def _audit_head(database_url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT coalesce(max(seq), 0) FROM audit_events"))
                       .scalar_one())
    finally:
        engine.dispose()


def _database_url(args: argparse.Namespace, data_dir: Path) -> str:
    return args.database_url or f"sqlite:///{(data_dir / 'abis.db').resolve()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtests.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gallery", type=int, default=10_000, help="gallery persons (datasets)")
    parser.add_argument("--users", type=int, default=32, help="locust users in all")
    parser.add_argument("--spawn-rate", type=float, default=0, help="users/s (default: users/5)")
    parser.add_argument("--duration", default="60s", help="locust --run-time, e.g. 30s, 5m")
    parser.add_argument("--mix", default="",
                        help="side-role users (default one each), e.g. police=2,bad=0; "
                             "border officers are the rest of --users")
    parser.add_argument("--wait", type=float, default=0.0,
                        help="seconds an officer waits between transmissions (0: closed loop)")
    parser.add_argument("--rate", type=float, default=0.0,
                        help="transmissions/s the officers offer together, paced whatever the "
                             "answer time (an open loop while answers are faster than "
                             "officers/rate s): latency at a given throughput, not at "
                             "saturation (0: closed loop)")
    parser.add_argument("--out", type=Path, default=None, help="report directory")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="default .loadtest/gallery-<N> (kept between runs)")
    parser.add_argument("--database-url", default=None, help="default: SQLite in the data dir")
    parser.add_argument("--env", action="append", default=[], metavar="ABIS_X=V",
                        help="extra service settings (repeatable)")
    parser.add_argument("--chunk", type=int, default=2000, help="preload: datasets per request")
    parser.add_argument("--preload-connections", type=int, default=2)
    parser.add_argument("--preload-timeout", type=float, default=6 * 3600,
                        help="seconds; then test over what is loaded (rerun to load on)")
    parser.add_argument("--preload-only", action="store_true", help="stop after preloading")
    parser.add_argument("--workers", default="0",
                        help="`abis serve --workers N`; a list (0,2) runs each in turn and "
                             "compares them (0: the one-process default)")
    parser.add_argument("--ceiling", action="store_true",
                        help="also measure the engine's batched search rate over a gallery of "
                             "the same size (abis bench, the fast index, 64-probe batches), in "
                             "the same run: the ceiling the service is compared with")
    parser.add_argument("--profile", action="store_true",
                        help="py-spy record the server and its children during the load "
                             "(profile-<N>.txt, collapsed stacks; costs the service CPU)")
    parser.add_argument("--fresh", action="store_true",
                        help="a new gallery in a temporary directory, removed afterwards (CI)")
    args = parser.parse_args(argv)
    if args.rate and args.wait:
        parser.error("--rate and --wait both set an officer's pace: give one")
    try:
        args.pacing = officer_pacing(args.users, args.mix, args.rate) if args.rate else 0.0
    except ValueError as error:
        parser.error(str(error))
    # TERM (CI timeouts, `kill`) unwinds like Ctrl-C, so the `finally` blocks stop the children.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.fresh:
        with tempfile.TemporaryDirectory(prefix="abis-loadtest-") as scratch:
            args.data_dir, args.fresh = Path(scratch), False
            return run(args)
    return run(args)


def run(args: argparse.Namespace) -> int:
    out = (args.out or ROOT / "reports" / f"loadtest-{dt.datetime.now():%Y%m%d-%H%M%S}").resolve()
    phases = [int(value) for value in str(args.workers).split(",")]
    if len(phases) == 1:
        return run_phase(args, out, phases[0])[0]
    from loadtests.compare import write_comparison

    results = {workers: run_phase(args, out / f"workers-{workers}", workers)
               for workers in phases}
    loaded = int(max(figures.get("gallery", 0) for _, figures in results.values()))
    ceiling = engine_ceiling(loaded, out / "engine-ceiling.json", _log) if args.ceiling \
        else None
    write_comparison(args, out, {workers: figures for workers, (_, figures) in results.items()},
                     ceiling)
    return max(code for code, _ in results.values())


def run_phase(args: argparse.Namespace, out: Path, workers: int
              ) -> tuple[int, dict[str, float]]:
    data_dir = (args.data_dir or ROOT / ".loadtest" / f"gallery-{args.gallery}").resolve()
    out.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    extra = dict(item.split("=", 1) for item in args.env)
    env = service_env(data_dir, args.database_url, port, extra)
    database_url = _database_url(args, data_dir)
    _log(f"data {data_dir}, report {out}, service {url}")
    keys = prepare_data_dir(data_dir, env)
    keys_file = data_dir / "loadtest-keys.json"
    progress = data_dir / "loadtest-gallery.json"
    loaded = json.loads(progress.read_text())["persons"] if progress.exists() else 0

    if workers:
        env.setdefault("ABIS_WRITER_LISTEN", f"127.0.0.1:{_free_port()}")
    serve = [PYTHON, "-m", "service", "serve", *(["--workers", str(workers)] if workers else [])]
    with process_group(serve, env, out / "service.log") as server:
        wait_ready(url, server, timeout=1800)
        if loaded < args.gallery:
            _log(f"preloading persons {loaded:,}..{args.gallery:,}")
            loaded = asyncio.run(_preload(url, str(keys["operator"]), loaded, args.gallery,
                                          args.chunk, args.preload_connections, progress,
                                          time.monotonic() + args.preload_timeout))
        if args.preload_only:
            return 0, {}
        head = _audit_head(database_url)
        cpu_before, wall_before = tree_cpu_seconds(server.pid), time.monotonic()
        writer_before = thread_cpu_seconds(server.pid, WRITER_THREAD)
        tally = out / "tally.json"
        locust_env = dict(env, ABIS_LOADTEST_KEYS=str(keys_file),
                          ABIS_LOADTEST_PERSONS=str(loaded),
                          ABIS_LOADTEST_TALLY=str(tally), ABIS_LOADTEST_MIX=args.mix,
                          ABIS_LOADTEST_WAIT=str(args.wait),
                          ABIS_LOADTEST_PACING=str(args.pacing), PYTHONPATH=str(ROOT))
        spawn = args.spawn_rate or max(1.0, args.users / 5)
        locust = [str(Path(PYTHON).parent / "locust"),
                  "-f", str(ROOT / "loadtests" / "locustfile.py"),
                  "--headless", "--host", url, "-u", str(args.users), "-r", str(spawn),
                  "--run-time", args.duration, "--stop-timeout", "15", "--reset-stats",
                  "--csv", str(out / "abis"), "--csv-full-history",
                  "--html", str(out / "report.html"), "--only-summary",
                  "--loglevel", "WARNING"]
        offered = f", officers offering {args.rate:g} transmissions/s" if args.rate else ""
        _log(f"locust: {args.users} users for {args.duration} over a {loaded:,}-person "
             f"gallery{offered}")
        load_before = os.getloadavg()[0]
        with process_group(locust, locust_env, out / "locust.log") as runner, \
                _profiled(args.profile, server.pid, _seconds(args.duration),
                          out / f"profile-{workers}.txt"):
            locust_cpu = 0.0
            deadline = time.monotonic() + _seconds(args.duration) + 180
            while runner.poll() is None and time.monotonic() < deadline:
                locust_cpu = max(locust_cpu, cpu_seconds(runner.pid))
                time.sleep(0.5)
            if runner.poll() is None:
                _log("locust overran its run time; stopping it")
        cpu = used_between(cpu_before, tree_cpu_seconds(server.pid))
        writer_cpu = used_between(writer_before,
                                  thread_cpu_seconds(server.pid, WRITER_THREAD))
        wall = time.monotonic() - wall_before
        audited = _audit_head(database_url) - head
    if workers:
        _log(f"server: abis serve --workers {workers}")
    _log(f"locust (the load generator) used {locust_cpu:.1f} s of CPU, "
         f"{locust_cpu / max(wall, 1):.2f} cores")
    code, figures, served = _report(out, tally, audited, cpu, wall)
    served = max(1, served)
    _log(f"the writer's batch thread used {writer_cpu:.1f} s of CPU, "
         f"{writer_cpu / max(wall, 1):.2f} cores, {1000 * writer_cpu / served:.2f} ms per "
         "request or bulk item")
    figures |= {"writer_thread_cores": writer_cpu / max(wall, 1),
                "writer_thread_ms_per_request": 1000 * writer_cpu / served,
                "locust_ms_per_request": 1000 * locust_cpu / served,
                "gallery": loaded, "locust_cores": locust_cpu / max(wall, 1),
                "offered_per_s": args.rate,
                "load_average_before": load_before, "load_average_after": os.getloadavg()[0]}
    (out / "figures.json").write_text(json.dumps(figures, indent=1))
    return code, figures


@contextlib.contextmanager
def _profiled(enabled: bool, pid: int, seconds: float, target: Path) -> Iterator[None]:
    """py-spy (from this venv) on the server and its children for the load's duration."""
    if not enabled:
        yield
        return
    # py-spy's own output goes next to the profile: on a starved machine it may not finish
    # writing in time, and a missing profile should say why.
    with target.with_suffix(".log").open("wb") as log:
        spy = subprocess.Popen(
            [str(Path(PYTHON).parent / "py-spy"), "record", "--pid", str(pid), "--subprocesses",
             "--nonblocking", "-r", "50", "-d", str(int(seconds)), "-f", "raw",
             "-o", str(target)], stdout=log, stderr=log)
        try:
            yield
        finally:
            with contextlib.suppress(subprocess.TimeoutExpired):
                spy.wait(timeout=seconds + 120)  # it writes only once it has stopped sampling
            if spy.poll() is None:
                _log("py-spy did not finish; stopping it (no profile)")
                spy.terminate()


def _seconds(duration: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600}
    total, number = 0.0, ""
    for char in duration:
        if char.isdigit():
            number += char
        else:
            total += int(number or 0) * units[char]
            number = ""
    return total + int(number or 0)


def _report(out: Path, tally_file: Path, audited: int, cpu: float, wall: float
            ) -> tuple[int, dict[str, float], int]:
    """(exit code, figures, requests and bulk items served)."""
    from loadtests.report import markdown_table, plot, read_stats

    rows = read_stats(out / "abis")
    plot(out / "abis", out / "throughput_latency.png")
    table = markdown_table(rows)
    tally = orjson.loads(tally_file.read_bytes()) if tally_file.exists() else {}
    status: dict[str, dict[str, int]] = tally.get("status", {})
    server_errors = {name: {c: n for c, n in codes.items() if int(c) >= 500 or int(c) == 0}
                     for name, codes in status.items()}
    server_errors = {name: codes for name, codes in server_errors.items() if codes}
    requests = sum(sum(codes.values()) for codes in status.values())
    bulk_items = sum(
        n * 50 for name, codes in status.items() if "bulk" in name
        for c, n in codes.items() if c == "200")
    failures = sum(tally.get("failures", {}).values()) + sum(
        row.failures for row in rows if row.name == "all requests")
    checks = {
        "no failed request": failures == 0,
        "no 5xx or connection error": not server_errors,
        "every request audited": audited >= requests + bulk_items and requests > 0,
    }
    summary = [
        "# abis load test", "", table, "",
        f"audit events written during the run: {audited:,} "
        f"(requests {requests:,} + bulk items {bulk_items:,})", "",
        f"service CPU: {cpu:.1f} s over {wall:.0f} s of load "
        f"({cpu / wall:.2f} cores; {1000 * cpu / max(1, requests + bulk_items):.2f} ms "
        "per request or bulk item)", "",
        "hits (per category, mated or not):",
        "```", json.dumps(tally.get("hits", {}), indent=1, sort_keys=True), "```",
        "status codes:", "```", json.dumps(status, indent=1, sort_keys=True), "```", "",
        *[f"- [{'x' if ok else ' '}] {name}" for name, ok in checks.items()],
    ]
    (out / "summary.md").write_text("\n".join(summary) + "\n")
    print(table)
    print(f"audit events {audited:,} for {requests:,} requests + {bulk_items:,} bulk items")
    print(f"service CPU {cpu:.1f} s in {wall:.0f} s ({cpu / wall:.2f} cores, "
          f"{1000 * cpu / max(1, requests + bulk_items):.2f} ms per request or bulk item)")
    for name, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}: {name}")
    if server_errors:
        print(f"server errors: {server_errors}")
    for failure, count in tally.get("failures", {}).items():
        print(f"failed {count}x: {failure}")
    print(f"report: {out}/summary.md, report.html, throughput_latency.png, abis_*.csv")
    figures = _figures(rows, cpu, wall, requests + bulk_items)
    (out / "figures.json").write_text(json.dumps(figures, indent=1))
    return (0 if all(checks.values()) else 1), figures, requests + bulk_items


def _figures(rows: list[Row], cpu: float, wall: float, served: int) -> dict[str, float]:
    """The headline numbers of a run: transmissions/s and their latency, CPU per request."""
    sent = next((row for row in rows if row.name == "POST /v1/transmissions"), None)
    every = next((row for row in rows if row.name == "all requests"), None)
    return {
        "transmissions_per_s": sent.rps if sent else 0.0,
        "transmission_p50_ms": sent.p50 if sent else 0.0,
        "transmission_p95_ms": sent.p95 if sent else 0.0,
        "transmission_p99_ms": sent.p99 if sent else 0.0,
        "requests_per_s": every.rps if every else 0.0,
        "service_cores": cpu / wall,
        "cpu_ms_per_request": 1000 * cpu / max(1, served),
    }


if __name__ == "__main__":
    sys.exit(main())
