"""Synthetic galleries and probes for the benchmark, generated in vectorised chunks.

The capture model is the one of `service.synth.captures.CaptureModel` (per-encounter
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
from service.synth.captures import CaptureModel

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


def _units(rng: np.random.Generator, shape: tuple[int, ...]) -> npt.NDArray[np.float32]:
    x = rng.standard_normal(shape, dtype=np.float32)
    x /= np.linalg.norm(x, axis=-1, keepdims=True)
    return x


def _identities(
    rng: np.random.Generator, n: int, model: CaptureModel
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32], npt.NDArray[np.bool_]]:
    fingers = _units(rng, (n, 10, model.finger_dim))
    face = _units(rng, (n, model.face_dim))
    missing = np.zeros((n, 10), dtype=np.bool_)
    amputated = np.flatnonzero(rng.random(n) < model.amputation)
    for row in amputated.tolist():
        missing[row, rng.choice(10, size=int(rng.integers(1, 4)), replace=False)] = True
    return fingers, face, missing


def _captures(
    rng: np.random.Generator,
    fingers: npt.NDArray[np.float32],
    face: npt.NDArray[np.float32],
    missing: npt.NDArray[np.bool_],
    model: CaptureModel,
) -> list[matcher.Templates]:
    n = len(fingers)
    log_difficulty = model.difficulty_spread * rng.standard_normal(n)
    difficulty = np.exp(log_difficulty)
    failed = rng.random(n) < model.failed_session
    taken = ~missing & (rng.random((n, 10)) >= model.finger_missing)
    taken &= (rng.random(n) >= model.no_fingers)[:, None]
    noise = model.finger_noise * difficulty[:, None] * np.exp(0.3 * rng.standard_normal((n, 10)))
    varied = fingers + noise[..., None].astype(np.float32) * _units(rng, fingers.shape)
    quality = np.clip(0.8 - 0.25 * log_difficulty[:, None] + 0.15 * rng.standard_normal((n, 10)),
                      0.05, 1.0)
    quality = np.where(failed[:, None], rng.uniform(0.05, 0.28, (n, 10)), quality)
    varied *= (quality / np.linalg.norm(varied, axis=2))[..., None].astype(np.float32)
    has_face = rng.random(n) >= model.no_face
    varied_face = face + (model.face_noise * difficulty)[:, None].astype(np.float32) * _units(
        rng, face.shape
    )
    face_quality = np.where(failed, 0.15, np.clip(0.85 - 0.2 * log_difficulty, 0.1, 1.0))
    varied_face *= (face_quality / np.linalg.norm(varied_face, axis=1))[:, None].astype(
        np.float32
    )
    return [
        matcher.Templates(
            fingers={p + 1: varied[i, p] for p in np.flatnonzero(taken[i]).tolist()},
            face=varied_face[i] if has_face[i] else None,
        )
        for i in range(n)
    ]


def gallery(
    seed: int, size: int, model: CaptureModel, mated_rows: npt.NDArray[np.int64]
) -> Iterator[tuple[Chunk, list[matcher.Templates]]]:
    """Chunks of enrolled entries (id = person number), each with the second captures of its
    persons listed in `mated_rows` (sorted), in that order."""
    for start in range(0, size, _CHUNK):
        n = min(_CHUNK, size - start)
        rng = np.random.default_rng([seed, 1, start])
        fingers, face, missing = _identities(rng, n, model)
        enrolled = _captures(rng, fingers, face, missing, model)
        metas = [
            matcher.EntryMeta(group=int(g), member_state=int(m))
            for g, m in zip(rng.integers(0, 6, n).tolist(), rng.integers(0, 27, n).tolist(),
                            strict=True)
        ]
        local = mated_rows[(mated_rows >= start) & (mated_rows < start + n)] - start
        probe_rng = np.random.default_rng([seed, 2, start])
        probes = _captures(probe_rng, fingers[local], face[local], missing[local], model)
        yield Chunk(list(range(start, start + n)), enrolled, metas), probes


def non_mated(seed: int, count: int, model: CaptureModel) -> list[matcher.Templates]:
    rng = np.random.default_rng([seed, 3])
    fingers, face, missing = _identities(rng, count, model)
    return _captures(rng, fingers, face, missing, model)
