"""Figures of an accuracy study, every rate with its 95 % interval, and its report.

Fingerprint: mated searches whose probe and mate share a usable finger (fingerprint-findable),
scored by the best fingerprint mate score; non-mated searches by their best fingerprint
candidate. Face: face-only searches whose mate has a usable face. Together: the service's rule
(fingerprints where a usable finger is shared, else the face; face-only hits flagged) over
every mated and non-mated search, at the thresholds of each modality's operating point.
Failures to acquire (ISO/IEC 19795-1) are reported, and folded into a system-level FNIR.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from service.scores.metrics import ImpostorTail, impostor_tail, threshold_for_fpir
from tooling.evaluation.intervals import bootstrap, wilson
from tooling.evaluation.study import (
    FACE_FLOOR,
    Searches,
    StudyData,
    decided,
    mate_score,
    scores_of,
    top_score,
)

FPIR_TARGETS = (1e-2, 1e-3, 1e-4)
_MIN_EVENTS = 5  # an empirical threshold needs this many expected non-mated searches above it
Rate = dict[str, Any]


def _rate(errors: int, trials: int) -> Rate:
    p, lo, hi = wilson(errors, trials)
    finite = math.isfinite(p)
    return {"rate": p if finite else None, "ci95": [lo, hi] if finite else None,
            "errors": errors, "trials": trials}


def modality_scores(searches: Searches, findable: list[bool], *, face: bool
                    ) -> tuple[np.ndarray, np.ndarray]:
    mate = np.array([mate_score(c, face=face) for c, ok in zip(searches.mated, findable,
                                                               strict=True) if ok])
    top = np.array([top_score(c, face=face) for c in searches.non_mated])
    return mate.astype(np.float64), top.astype(np.float64)


def fit_tail(data: StudyData, searches: Searches, *, face: bool) -> tuple[ImpostorTail | None,
                                                                          str]:
    """The impostor tail of one modality, or None and why not."""
    if not data.complete_lists:
        return None, "refused: candidate lists are not complete (not an exact search)"
    tail = impostor_tail([scores_of(c, face=face) for c in searches.non_mated],
                         data.gallery_size, data.listed,
                         FACE_FLOOR if face else data.finger_floor)
    return tail, "fitted on exact top-k impostor scores" if tail else "too few scores to fit"


def modelled_fpir(tail: ImpostorTail, threshold: float, gallery_size: int) -> float:
    return -math.expm1(gallery_size * math.log1p(-tail.fmr(threshold)))


def operating_points(mate: np.ndarray, top: np.ndarray, tail: ImpostorTail | None,
                     gallery_size: int, seed: int) -> list[dict[str, Any]]:
    points = []
    for target in FPIR_TARGETS:
        empirical = top.size * target >= _MIN_EVENTS
        if empirical:
            threshold = threshold_for_fpir(top, target)
            basis = "non-mated searches"
        elif tail is not None:
            threshold = tail.threshold_for(target, gallery_size)
            basis = "impostor tail model"
        else:
            points.append({"fpir_target": target, "threshold": None,
                           "basis": "too few non-mated searches and no tail model"})
            continue
        misses = int(np.sum(mate < threshold))
        false = int(np.sum(top >= threshold))

        def fnir_at_estimated(m: np.ndarray, t: np.ndarray, target: float = target) -> float:
            return float(np.mean(m < threshold_for_fpir(t, target)))

        point: dict[str, Any] = {
            "fpir_target": target, "threshold": threshold, "basis": basis,
            "fnir": _rate(misses, mate.size), "measured_fpir": _rate(false, top.size),
        }
        if empirical:  # the threshold is an estimate too: bootstrap both sets of searches
            point["fnir_bootstrap_ci95"] = list(bootstrap(fnir_at_estimated, mate, top,
                                                          seed=seed))
        if tail is not None:
            point["modelled_fpir"] = modelled_fpir(tail, threshold, gallery_size)
        points.append(point)
    return points


def _modality(data: StudyData, searches: Searches, findable: list[bool], *, face: bool,
              seed: int) -> dict[str, Any]:
    mate, top = modality_scores(searches, findable, face=face)
    tail, why = fit_tail(data, searches, face=face)
    return {
        "mated_searches": int(mate.size), "non_mated_searches": int(top.size),
        "mated_not_findable": len(findable) - int(sum(findable)),
        "rank1_miss_rate": _rate(int(sum(1 for c, ok in zip(searches.mated, findable,
                                                               strict=True)
                                           if ok and not (c and c[0].mate))), int(mate.size)),
        "operating_points": operating_points(mate, top, tail, data.gallery_size, seed),
        "impostor_tail": {"status": why} | ({} if tail is None else {
            "probit_intercept": tail.intercept, "probit_slope": tail.slope,
            "measured_from": tail.floor, "comparisons": tail.comparisons}),
    }


def _together(data: StudyData, finger: dict[str, Any], face: dict[str, Any]
              ) -> list[dict[str, Any]]:
    rows = []
    for fp, fc in zip(finger["operating_points"], face["operating_points"], strict=True):
        if fp.get("threshold") is None or fc.get("threshold") is None:
            continue
        t_finger, t_face = fp["threshold"], fc["threshold"]
        mated = [decided(c, t_finger, t_face) for c in data.combined.mated]
        non = [decided(c, t_finger, t_face) for c in data.combined.non_mated]
        misses = sum(1 for _, found, _ in mated if not found)
        attempts = data.mated_attempts - data.mate_not_enrolled
        rows.append({
            "fpir_target_each_modality": fp["fpir_target"],
            "finger_threshold": t_finger, "face_threshold": t_face,
            "fnir": _rate(misses, len(mated)),
            "fnir_with_fta": _rate(misses + data.fta_mated, attempts),
            "fpir": _rate(sum(1 for hit, _, _ in non if hit), len(non)),
            "mates_found_by_face_only_flagged": sum(1 for _, _, flagged in mated if flagged),
        })
    return rows


def study_figures(data: StudyData, seed: int = 0) -> dict[str, Any]:
    finger = _modality(data, data.combined, data.finger_findable, face=False, seed=seed)
    face = _modality(data, data.face, data.face_findable, face=True, seed=seed)
    return {
        "gallery_size": data.gallery_size, "candidates_per_search": data.listed,
        "exact_search": data.complete_lists,
        "acquisition": {
            "failure_to_enrol": _rate(data.failures_to_enrol, data.enrolment_attempts),
            "failure_to_acquire_mated": _rate(data.fta_mated, data.mated_attempts),
            "failure_to_acquire_non_mated": _rate(data.fta_non_mated, data.non_mated_attempts),
            "mated_probes_whose_mate_failed_to_enrol": data.mate_not_enrolled,
        },
        "fingerprint": finger,
        "face": face,
        "together": _together(data, finger, face),
    }


def calibration_check(data: StudyData, finger_threshold: float, face_threshold: float,
                      target: float) -> dict[str, Any]:
    """Measured FPIR at calibrated thresholds, per modality and under the service's rule, and
    whether the target lies within each 95 % interval."""
    _, finger_top = modality_scores(data.combined, data.finger_findable, face=False)
    _, face_top = modality_scores(data.face, data.face_findable, face=True)
    together = [decided(c, finger_threshold, face_threshold)[0] for c in data.combined.non_mated]
    out: dict[str, Any] = {"target_fpir": target, "finger_threshold": finger_threshold,
                           "face_threshold": face_threshold}
    for name, errors, trials in (
            ("fingerprint", int(np.sum(finger_top >= finger_threshold)), finger_top.size),
            ("face", int(np.sum(face_top >= face_threshold)), face_top.size),
            ("together", sum(together), len(together))):
        rate = _rate(errors, trials)
        ci = rate["ci95"]
        out[name] = rate | {"target_within_ci": bool(ci and ci[0] <= target <= ci[1])}
    return out
