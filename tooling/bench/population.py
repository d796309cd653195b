"""Synthetic galleries and probes for the benchmark, generated in vectorised chunks.

The capture model is the one of `tooling.synth.captures.CaptureModel` (per-encounter
difficulty, noisy and partly missing fingers, amputations, encounters without fingers or face),
applied to whole chunks of persons at once: generating a million persons one at a time through
the per-person streams of `abis synth` would take longer than the benchmark itself.
Persons 0..n-1 are enrolled (one capture each); mated probes are second captures of enrolled
persons, non-mated probes captures of persons never enrolled.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

import matcher
from tooling.synth.captures import CaptureModel, Captures, capture_arrays, identities, subspaces

_CHUNK = 8192


@dataclass(frozen=True, slots=True)
class Chunk:
    ids: list[int]
    templates: list[matcher.Templates]
    metas: list[matcher.EntryMeta]


@dataclass(frozen=True, slots=True)
class Probes:
    templates: list[matcher.Templates]
    mated: npt.NDArray[np.bool_]
    mate: npt.NDArray[np.int64]  # the enrolled entry id, -1 for non-mated


def templates(captured: Captures) -> list[matcher.Templates]:
    """The matcher's view of a chunk of captures."""
    return [
        matcher.Templates(
            fingers={p + 1: captured.fingers[i, p]
                     for p in np.flatnonzero(captured.taken[i]).tolist()},
            face=captured.face[i] if captured.has_face[i] else None,
        )
        for i in range(len(captured))
    ]


def gallery(
    seed: int, size: int, model: CaptureModel, mated_rows: npt.NDArray[np.int64]
) -> Iterator[tuple[Chunk, list[matcher.Templates]]]:
    """Chunks of enrolled entries (id = person number), each with the second captures of its
    persons listed in `mated_rows` (sorted), in that order."""
    spaces = subspaces(seed, model)
    for start in range(0, size, _CHUNK):
        n = min(_CHUNK, size - start)
        rng = np.random.default_rng([seed, 1, start])
        persons = identities(rng, n, model, spaces)
        enrolled = templates(capture_arrays(rng, persons, model))
        metas = [
            matcher.EntryMeta(group=int(g), member_state=int(m))
            for g, m in zip(rng.integers(0, 6, n).tolist(), rng.integers(0, 27, n).tolist(),
                            strict=True)
        ]
        local = mated_rows[(mated_rows >= start) & (mated_rows < start + n)] - start
        probe_rng = np.random.default_rng([seed, 2, start])
        probes = templates(capture_arrays(probe_rng, persons.take(local), model))
        yield Chunk(list(range(start, start + n)), enrolled, metas), probes


def non_mated(seed: int, count: int, model: CaptureModel) -> list[matcher.Templates]:
    rng = np.random.default_rng([seed, 3])
    persons = identities(rng, count, model, subspaces(seed, model))
    return templates(capture_arrays(rng, persons, model))
