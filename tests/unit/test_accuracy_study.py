"""The accuracy study: failures counted, the service's rule, intervals, calibration."""

from __future__ import annotations

import math

import pytest

import matcher
from service.scores.calibration import CalibrationError, calibrate
from tooling.evaluation.intervals import bootstrap, wilson
from tooling.evaluation.study import Candidate, StudyData, decided, run_study
from tooling.evaluation.study_report import calibration_check, fit_tail, study_figures
from tooling.synth.profiles import profile_model

CONFIG = matcher.MatcherConfig()


@pytest.fixture(scope="module")
def study() -> StudyData:
    model = profile_model("face")  # a tenth of encounters without prints: the face decides
    return run_study(model, CONFIG, gallery_size=1500, mated=300, non_mated=600, listed=10,
                     seed=3, progress=lambda _: None)


def test_wilson_interval_is_sound_at_zero_and_known_values() -> None:
    rate, low, high = wilson(0, 100)
    assert rate == 0 and low == 0 and 0.03 < high < 0.04  # Wilson: 3.7 %
    rate, low, high = wilson(10, 100)
    assert low < 0.1 < high and math.isclose(low, 0.0552, abs_tol=1e-3)
    assert math.isnan(wilson(0, 0)[0])


def test_bootstrap_interval_covers_the_statistic() -> None:
    import numpy as np

    mated = np.linspace(0, 1, 200)
    low, high = bootstrap(lambda m, _: float(m.mean()), mated, np.zeros(5), replicates=100)
    assert low < 0.5 < high


def test_failures_are_counted_not_retried(study: StudyData) -> None:
    assert study.mated_attempts == 300 and study.non_mated_attempts == 600
    assert len(study.combined.mated) + study.fta_mated + study.mate_not_enrolled == 300
    assert len(study.combined.non_mated) + study.fta_non_mated == 600
    assert study.gallery_size + study.failures_to_enrol == 1500
    figures = study_figures(study)
    assert figures["acquisition"]["failure_to_acquire_mated"]["errors"] == study.fta_mated


def test_the_service_rule_flags_face_only_hits() -> None:
    face_mate = [Candidate(0.5, face=True, mate=True), Candidate(0.2, face=False, mate=False)]
    assert decided(face_mate, 0.5, 0.4) == (True, True, True)
    assert decided(face_mate, 0.5, 0.6) == (False, False, False)
    finger_mate = [Candidate(1.2, face=False, mate=True)]
    assert decided(finger_mate, 0.5, 0.4) == (True, True, False)


def test_face_and_fingerprint_reported_apart_and_together(study: StudyData) -> None:
    figures = study_figures(study)
    assert figures["fingerprint"]["mated_not_findable"] > 0  # face-only mates not counted
    for modality in ("fingerprint", "face"):
        for point in figures[modality]["operating_points"]:
            if point.get("threshold") is not None:
                low, high = point["fnir"]["ci95"]
                assert low <= point["fnir"]["rate"] <= high
    assert figures["together"]
    assert any(row["mates_found_by_face_only_flagged"] for row in figures["together"])


def test_tail_model_is_refused_on_incomplete_lists(study: StudyData) -> None:
    assert fit_tail(study, study.combined, face=False)[0] is not None
    study.complete_lists = False
    try:
        tail, why = fit_tail(study, study.combined, face=False)
        assert tail is None and "not complete" in why
    finally:
        study.complete_lists = True


def test_calibrated_thresholds_hold_fpir_and_rise_with_gallery_size(study: StudyData) -> None:
    assert study.gallery is not None
    small = calibrate(study.gallery, 1e-2, 1_000, probes=400, exclude_hits=False)
    large = calibrate(study.gallery, 1e-2, 1_000_000, probes=400, exclude_hits=False)
    assert large.finger_threshold > small.finger_threshold
    assert large.face_threshold > small.face_threshold
    own = calibrate(study.gallery, 2e-2, probes=400, exclude_hits=False)
    check = calibration_check(study, own.finger_threshold, own.face_threshold, 2e-2)
    assert check["fingerprint"]["target_within_ci"], check
    with pytest.raises(CalibrationError):
        calibrate(study.gallery, 1.5)


def test_a_normalised_study_lists_z_scores_complete_above_its_floor() -> None:
    from tooling.evaluation.study import FINGER_FLOOR_Z

    data = run_study(profile_model("anisotropic"), CONFIG, gallery_size=1200, mated=200,
                     non_mated=300, listed=10, seed=4, progress=lambda _: None, normalise=True)
    assert data.cohort is not None and data.gallery is not None
    assert data.finger_floor == FINGER_FLOOR_Z
    finger = [c.score for cs in data.combined.non_mated for c in cs if not c.face]
    assert finger and min(finger) >= FINGER_FLOOR_Z  # z units: the floor is in sds
    mates = [c.score for cs in data.combined.mated for c in cs if c.mate and not c.face]
    assert sorted(mates)[len(mates) // 2] > 10  # a mate lies many impostor sds above
    tail, _ = fit_tail(data, data.combined, face=False)
    assert tail is not None and tail.floor >= FINGER_FLOOR_Z
    calibration = calibrate(data.gallery, 1e-2, exclude_hits=False, probes=200,
                            reference=800, cohort=data.cohort)
    assert 3 < calibration.finger_threshold < 12  # in z units, not a raw fused score


def test_a_symmetric_study_keeps_every_entrys_statistics_and_lists_snorm_scores() -> None:
    from tooling.evaluation.study import FINGER_FLOOR_Z

    data = run_study(profile_model("anisotropic"), CONFIG, gallery_size=500, mated=100,
                     non_mated=150, listed=10, seed=4, progress=lambda _: None, symmetric=True)
    assert data.cohort is not None and data.gallery is not None and data.entry_norms is not None
    ids, _ = data.gallery.entries()
    assert len(data.entry_norms) == len(data.gallery)
    assert all(int(i) in data.entry_norms for i in ids)
    assert data.finger_floor == FINGER_FLOOR_Z
    finger = [c.score for cs in data.combined.non_mated for c in cs if not c.face]
    assert finger and min(finger) >= FINGER_FLOOR_Z  # s-norm units: the floor is in sds
    mates = [c.score for cs in data.combined.mated for c in cs if c.mate and not c.face]
    assert sorted(mates)[len(mates) // 2] > 10
