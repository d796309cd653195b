"""Search every probe of a synthetic dataset over HTTP; join the answers with the ground truth."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

import matcher
from schemas.codes import Modality
from schemas.evaluation import EvaluationAnswer
from service.scores.metrics import MatedSearch
from tooling.synth.dataset import read_lines, read_manifest, read_records

# The default request body limit is 256 KiB; a probe is about 10 KiB.
_BATCH_BYTES = 200_000


class EvaluationFailed(Exception):
    """The service refused or could not be reached; the message says why."""


@dataclass
class Gathered:
    gallery_size: int = 0
    listed: int = 0
    mated: list[MatedSearch] = field(default_factory=list)
    non_mated: list[list[float]] = field(default_factory=list)
    mated_without_mate_in_gallery: int = 0
    # Probes the quality gate refuses: failures to acquire (ISO/IEC 19795-1), not searched
    failures_to_acquire_mated: int = 0
    failures_to_acquire_non_mated: int = 0


def _batches(directory: Path, names: list[str], config: matcher.MatcherConfig,
             refused: set[str]) -> Iterator[list[bytes]]:
    """Batches of probe lines; probes the quality gate would refuse go to `refused` instead
    (the service refuses a batch holding one: each is a failure to acquire)."""
    from tooling.evaluation.local import usable_templates

    batch: list[bytes] = []
    size = 0
    for name in names:
        for line in read_lines(directory / "probes" / name):
            probe = orjson.loads(line)
            if usable_templates(probe["biometrics"], config) is None:
                refused.add(probe["probe_id"])
                continue
            if batch and size + len(line) > _BATCH_BYTES:
                yield batch
                batch, size = [], 0
            batch.append(line)
            size += len(line) + 1
    if batch:
        yield batch


async def _search_all(url: str, key: str, directory: Path, names: list[str], limit: int,
                      connections: int, advance: Callable[[int], None],
                      config: matcher.MatcherConfig, refused: set[str]
                      ) -> tuple[int, dict[str, list[tuple[str, float]]]]:
    found: dict[str, list[tuple[str, float]]] = {}
    gallery_size = 0
    batches = _batches(directory, names, config, refused)
    headers = {"Authorization": f"Bearer {key}", "content-type": "application/json"}

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal gallery_size
        for batch in batches:  # a shared iterator: each batch goes to one worker
            body = b'{"limit":%d,"probes":[' % limit + b",".join(batch) + b"]}"
            response = await client.post("/v1/evaluation/search", content=body, headers=headers)
            if response.status_code != 200:
                raise EvaluationFailed(_problem_text(response))
            answer = EvaluationAnswer.model_validate_json(response.content)
            gallery_size = max(gallery_size, answer.gallery_size)
            for result in answer.results:
                found[result.probe_id] = [
                    (candidate.reference_number, candidate.score)
                    for candidate in result.candidates
                    if candidate.modality is Modality.FINGERPRINT
                ]
            advance(len(batch))

    try:
        async with httpx.AsyncClient(base_url=url, timeout=600) as client:
            await asyncio.gather(*(worker(client) for _ in range(connections)))
    except httpx.HTTPError as error:
        raise EvaluationFailed(f"cannot reach {url}: {error}") from None
    return gallery_size, found


def _problem_text(response: httpx.Response) -> str:
    try:
        problem: dict[str, Any] = orjson.loads(response.content)
        return f"{response.status_code} {problem.get('title')}: {problem.get('detail')}"
    except orjson.JSONDecodeError:
        return f"HTTP {response.status_code}"


def gather(directory: Path, url: str, key: str, *, limit: int, connections: int,
           advance: Callable[[int], None], config: matcher.MatcherConfig) -> Gathered:
    manifest = read_manifest(directory)
    refused: set[str] = set()
    gallery_size, found = asyncio.run(
        _search_all(url.rstrip("/"), key, directory, manifest["probes"], limit, connections,
                    advance, config, refused)
    )
    return join_truth(directory, found, gallery_size=gallery_size, limit=limit, refused=refused)


def join_truth(directory: Path, found: dict[str, list[tuple[str, float]]], *,
               gallery_size: int, limit: int, refused: set[str]) -> Gathered:
    """Each probe's candidates (reference number, score), judged with the ground truth."""
    manifest = read_manifest(directory)
    probes = {record["probe_id"]: record for record in
              read_records(directory / "truth", manifest["truth"]["probes"])}
    wanted = {reference for candidates in found.values() for reference, _ in candidates}
    mated_persons = {record["person"] for record in probes.values() if record["mated"]}
    person_of: dict[str, int] = {}
    in_gallery: set[int] = set()
    for record in read_records(directory / "truth", manifest["truth"]["encounters"]):
        if record["reference_number"] in wanted:
            person_of[record["reference_number"]] = record["person"]
        if record["usable"] and record["person"] in mated_persons:
            in_gallery.add(record["person"])
    gathered = Gathered(gallery_size=gallery_size, listed=limit)
    for probe_id in refused:
        if probes[probe_id]["mated"]:
            gathered.failures_to_acquire_mated += 1
        else:
            gathered.failures_to_acquire_non_mated += 1
    for probe_id, candidates in found.items():
        truth = probes[probe_id]
        scores = [score for _, score in candidates]
        if not truth["mated"]:
            gathered.non_mated.append(scores)
        elif truth["person"] not in in_gallery:
            gathered.mated_without_mate_in_gallery += 1
        else:
            mates = [person_of.get(reference) == truth["person"] for reference, _ in candidates]
            gathered.mated.append(MatedSearch(scores, mates))
    return gathered
