"""`abis load`: stream a synthetic dataset into a service through the bulk endpoint, resumably.

The datasets are sent in chunks of `chunk` lines, each one bulk request, `connections` of them
in flight. A chunk is recorded in the progress file only once its summary line has arrived, so
an interrupted load resumes at the first unfinished chunk; items of that chunk that were stored
before the interruption answer `duplicate` and are counted as already loaded, never stored twice.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

from tooling.synth.dataset import read_lines, read_manifest

NDJSON = "application/x-ndjson"


class LoadFailed(Exception):
    """The load stopped; the message says why and whether rerunning resumes it."""


@dataclass
class LoadSummary:
    items: int = 0
    stored: int = 0
    searched: int = 0
    duplicate: int = 0
    refused: int = 0
    hits: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    skipped_chunks: int = 0
    seconds: float = 0.0
    sent_this_run: int = 0

    def add(self, other: dict[str, Any]) -> None:
        for name in ("items", "stored", "searched", "duplicate", "refused", "hits"):
            setattr(self, name, getattr(self, name) + int(other.get(name, 0)))
        self.reasons.update(other.get("reasons", {}))

    def as_dict(self) -> dict[str, Any]:
        rate = self.sent_this_run / self.seconds if self.seconds else 0.0
        return {"items": self.items, "stored": self.stored, "searched": self.searched,
                "already_loaded": self.duplicate, "refused": self.refused, "hits": self.hits,
                "refused_reasons": dict(self.reasons.most_common()),
                "chunks_skipped_as_done": self.skipped_chunks,
                "seconds": round(self.seconds, 3), "datasets_per_second": round(rate, 1)}


class Progress:
    """Chunks already loaded into one service, kept next to the dataset (atomic rewrite)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.done: dict[str, dict[str, Any]] = {}
        if path.is_file():
            self.done = orjson.loads(path.read_bytes()).get("done", {})

    def record(self, chunk: str, counts: dict[str, Any]) -> None:
        self.done[chunk] = counts
        temporary = self.path.with_suffix(".tmp")
        temporary.write_bytes(orjson.dumps({"done": self.done}))
        os.replace(temporary, self.path)


def progress_path(directory: Path, url: str) -> Path:
    tag = hashlib.sha256(url.rstrip("/").encode()).hexdigest()[:12]
    return directory / f".load-progress-{tag}.json"


def _chunks(directory: Path, shards: list[str], size: int, limit: int | None
            ) -> Iterator[tuple[str, list[bytes]]]:
    left = limit if limit is not None else -1
    for shard in shards:
        lines: list[bytes] = []
        number = 0
        for line in read_lines(directory / "load" / shard):
            if left == 0:
                break
            left -= 1
            lines.append(line)
            if len(lines) == size:
                yield f"{shard}:{number}:{size}", lines
                lines, number = [], number + 1
        if lines:  # a short chunk has another name than the full one: a later load sends it
            yield f"{shard}:{number}:{len(lines)}", lines


def _reason(problem: dict[str, Any]) -> str:
    detail = str(problem.get("detail") or "")
    # The detail names the reference number for some problems: keep the reason generic.
    return f"{problem.get('type')}: {detail.split(';')[0][:80]}"


async def _send(client: httpx.AsyncClient, key: str, lines: list[bytes],
                advance: Callable[[int], None]) -> dict[str, Any]:
    async def body() -> Any:
        for start in range(0, len(lines), 256):
            yield b"\n".join(lines[start : start + 256]) + b"\n"

    counts: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    headers = {"Authorization": f"Bearer {key}", "content-type": NDJSON}
    async with client.stream("POST", "/v1/bulk/transmissions", content=body(),
                             headers=headers) as response:
        if response.status_code != 200:
            await response.aread()
            raise LoadFailed(_problem_text(response))
        summary = None
        async for line in response.aiter_lines():
            if not line:
                continue
            record = orjson.loads(line)
            if record.get("kind") == "summary":
                summary = record
                continue
            counts[record["status"]] += 1
            if record["status"] == "refused":
                reasons[_reason(record.get("problem") or {})] += 1
            advance(1)
    if summary is None:
        raise LoadFailed("the service cut the answer short; rerun to resume")
    return {"items": summary["items"], "stored": summary["stored"],
            "searched": summary["searched"], "duplicate": summary["duplicate"],
            "refused": summary["refused"], "hits": summary["hits"], "reasons": dict(reasons)}


def _problem_text(response: httpx.Response) -> str:
    try:
        problem = orjson.loads(response.content)
        return f"{response.status_code} {problem.get('title')}: {problem.get('detail')}"
    except orjson.JSONDecodeError:
        return f"the service answered HTTP {response.status_code}"


def total_items(directory: Path) -> int:
    counts: dict[str, int] = read_manifest(directory)["counts"]
    return counts["encounters"]


async def _load(directory: Path, url: str, key: str, *, chunk: int, connections: int,
                limit: int | None, progress: Progress, summary: LoadSummary,
                advance: Callable[[int], None]) -> None:
    shards = read_manifest(directory)["load"]
    pending = _chunks(directory, shards, chunk, limit)
    lock = asyncio.Lock()

    async def worker(client: httpx.AsyncClient) -> None:
        while True:
            async with lock:
                name, lines = next(pending, (None, []))
                while name is not None and name in progress.done:
                    summary.skipped_chunks += 1
                    advance(len(lines))
                    name, lines = next(pending, (None, []))
            if name is None:
                return
            counts = await _send(client, key, lines, advance)
            summary.sent_this_run += len(lines)
            progress.record(name, counts)

    limits = httpx.Limits(max_connections=connections)
    timeout = httpx.Timeout(60.0, read=600.0)
    try:
        async with httpx.AsyncClient(base_url=url, limits=limits, timeout=timeout) as client:
            await asyncio.gather(*(worker(client) for _ in range(connections)))
    except httpx.HTTPError as error:
        raise LoadFailed(f"lost the service at {url} ({type(error).__name__}); rerun to resume"
                         ) from None


def load(directory: Path, url: str, key: str, *, chunk: int = 2000, connections: int = 2,
         limit: int | None = None, fresh: bool = False,
         advance: Callable[[int], None] = lambda n: None) -> LoadSummary:
    """Load the datasets of `directory` (the first `limit` only, if given); `fresh` forgets
    what earlier runs against this URL recorded (a new service behind the same URL)."""
    if fresh:
        progress_path(directory, url).unlink(missing_ok=True)
    progress = Progress(progress_path(directory, url))
    summary = LoadSummary()
    started = time.perf_counter()
    try:
        asyncio.run(_load(directory, url.rstrip("/"), key, chunk=chunk, connections=connections,
                          limit=limit, progress=progress, summary=summary, advance=advance))
    finally:
        summary.seconds = time.perf_counter() - started
        done = LoadSummary()
        for counts in progress.done.values():
            done.add(counts)
        summary.items, summary.stored, summary.searched = done.items, done.stored, done.searched
        summary.duplicate, summary.refused, summary.hits = done.duplicate, done.refused, done.hits
        summary.reasons = done.reasons
    return summary
