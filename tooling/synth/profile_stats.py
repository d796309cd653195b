"""Measured score statistics of a synthetic profile: per finger, fused, and face.

Two encounters of each of n persons: genuine scores compare a person's two encounters,
impostor scores every encounter of one person with the second encounter of every other one
(n(n-1) pairs). Scores follow the matcher's rule (cosines of templates the quality gate lets
through; fused = sum of the cosines of the fingers usable in both / sqrt(their count)).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from tooling.synth.captures import CaptureModel, Captures, capture_arrays, identities, subspaces

MIN_QUALITY = 0.3  # the service's default quality floor
Floats = npt.NDArray[np.float64]


def _normalised(captured: Captures
                ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.bool_], Floats]:
    """Unit finger vectors (zeros where unusable), usability, and qualities (the norms)."""
    norms = np.linalg.norm(captured.fingers, axis=2)
    usable = captured.taken & (norms >= MIN_QUALITY)
    unit = captured.fingers / np.maximum(norms, 1e-12)[..., None]
    quality = np.where(usable, norms, 0.0).astype(np.float64)
    return np.where(usable[..., None], unit, 0).astype(np.float32), usable, quality


def _summary(genuine: Floats, impostor: Floats, fmrs: tuple[float, ...]) -> dict[str, Any]:
    centred = impostor - impostor.mean()
    sd = float(centred.std())
    kurtosis = float(np.mean(centred**4) / sd**4 - 3.0) if sd > 0 else float("nan")
    ranked = np.sort(impostor)
    out: dict[str, Any] = {
        "genuine_pairs": int(genuine.size), "impostor_pairs": int(impostor.size),
        "genuine_mean": round(float(genuine.mean()), 4),
        "genuine_sd": round(float(genuine.std()), 4),
        "impostor_mean": round(float(impostor.mean()), 5), "impostor_sd": round(sd, 5),
        "impostor_excess_kurtosis": round(kurtosis, 3),
        "impostor_max": round(float(ranked[-1]), 4),
    }
    for fmr in fmrs:
        above = int(fmr * impostor.size)
        if above < 10:  # fewer than ten impostors above: not measurable at this size
            continue
        threshold = float(ranked[-above - 1])
        out[f"at_fmr_{fmr:g}"] = {"threshold": round(threshold, 4),
                                  "fnmr": round(float(np.mean(genuine <= threshold)), 5)}
    return out


def profile_statistics(model: CaptureModel, persons: int, seed: int = 11) -> dict[str, Any]:
    """Per-finger, fused and face genuine/impostor statistics of `persons` synthetic persons."""
    rng = np.random.default_rng([seed, 0])
    people = identities(rng, persons, model, subspaces(seed, model))
    first = capture_arrays(np.random.default_rng([seed, 1]), people, model)
    second = capture_arrays(np.random.default_rng([seed, 2]), people, model)
    a, ua, qa = _normalised(first)
    b, ub, qb = _normalised(second)
    off = ~np.eye(persons, dtype=np.bool_)
    genuine_finger, impostor_finger = [], []
    fused_raw = np.zeros((persons, persons), dtype=np.float64)
    counts = np.zeros((persons, persons), dtype=np.float64)
    # The A/B candidate: quality-weighted fusion, sum(w cos) / sqrt(sum(w^2)) with w the
    # product of the two qualities, which keeps independent impostor scores' spread as the
    # plain rule does (sum(cos) / sqrt(count) is the case w = 1).
    weighted = np.zeros((persons, persons), dtype=np.float64)
    weights = np.zeros((persons, persons), dtype=np.float64)
    per_position = []
    for p in range(10):
        scores = a[:, p] @ b[:, p].T
        both = ua[:, p, None] & ub[None, :, p]
        genuine_finger.append(np.diag(scores)[np.diag(both)])
        impostor = scores[both & off]
        impostor_finger.append(impostor)
        per_position.append(np.where(both & off, scores, np.nan)[off])
        fused_raw += scores
        counts += both
        w = qa[:, p, None] * qb[None, :, p]
        weighted += w * scores
        weights += w * w
    shared = counts > 0
    fused = fused_raw / np.sqrt(np.maximum(counts, 1))
    stacked = np.array(per_position)
    correlation = _mean_pairwise_correlation(stacked)
    face_a = first.face / np.linalg.norm(first.face, axis=1, keepdims=True)
    face_b = second.face / np.linalg.norm(second.face, axis=1, keepdims=True)
    face_ok = first.has_face & (np.linalg.norm(first.face, axis=1) >= MIN_QUALITY)
    face_ok2 = second.has_face & (np.linalg.norm(second.face, axis=1) >= MIN_QUALITY)
    face_scores = face_a @ face_b.T
    face_both = face_ok[:, None] & face_ok2[None, :]
    return {
        "persons": persons,
        "per_finger": _summary(np.concatenate(genuine_finger).astype(np.float64),
                               np.concatenate(impostor_finger).astype(np.float64),
                               (1e-3, 1e-4, 1e-5)),
        "impostor_correlation_across_fingers": round(correlation, 4),
        "fused": _summary(np.diag(fused)[np.diag(shared)], fused[shared & off],
                          (1e-4, 1e-5, 1e-6)),
        "fused_quality_weighted": _summary(
            np.diag(weighted / np.sqrt(np.maximum(weights, 1e-12)))[np.diag(shared)],
            (weighted / np.sqrt(np.maximum(weights, 1e-12)))[shared & off], (1e-4, 1e-5, 1e-6)),
        "face": _summary(np.diag(face_scores)[np.diag(face_both)].astype(np.float64),
                         face_scores[face_both & off].astype(np.float64),
                         (1e-4, 1e-5, 1e-6)),
    }


def _mean_pairwise_correlation(stacked: Floats) -> float:
    """Mean correlation of impostor cosines of two finger positions of the same pair of
    persons (0 when fingers are independent)."""
    values = []
    for p in range(10):
        for q in range(p + 1, 10):
            both = ~np.isnan(stacked[p]) & ~np.isnan(stacked[q])
            values.append(float(np.corrcoef(stacked[p][both], stacked[q][both])[0, 1]))
    return float(np.mean(values))
