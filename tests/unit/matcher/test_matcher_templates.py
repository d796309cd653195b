"""Validation and quality assessment of templates."""

from __future__ import annotations

import numpy as np
import pytest

from matcher import QualityReport, TemplateError, TemplateProblem, Templates, assess, validate
from tests.unit.matcher.matcher_factories import CONFIG, DIM, templates, unit


@pytest.mark.parametrize("position", [0, 11, -1, True, np.bool_(True), np.int64(11), "1", 1.0])
def test_unknown_finger_position_is_refused(position: object) -> None:
    bad = Templates(fingers={position: unit(0)})  # type: ignore[dict-item]
    with pytest.raises(TemplateError) as caught:
        validate(bad, CONFIG)
    assert caught.value.problem is TemplateProblem.UNKNOWN_POSITION
    assert caught.value.actual == position
    assert caught.value.expected == "1..10"


@pytest.mark.parametrize(
    "vector",
    [np.ones(DIM + 1, np.float32), np.ones(DIM - 1, np.float32), np.ones((1, DIM), np.float32),
     np.float32(1.0), np.array(["a"] * DIM)],
)
def test_wrong_shape_or_type_is_refused(vector: object) -> None:
    with pytest.raises(TemplateError) as caught:
        validate(Templates(fingers={3: vector}), CONFIG)  # type: ignore[dict-item]
    assert caught.value.problem is TemplateProblem.WRONG_SHAPE
    assert caught.value.position == 3


def test_wrong_dimension_reports_expected_and_actual() -> None:
    with pytest.raises(TemplateError) as caught:
        validate(Templates(fingers={}, face=np.ones(DIM + 2, np.float32)), CONFIG)
    error = caught.value
    assert (error.position, error.expected, error.actual) == (None, (DIM,), (DIM + 2,))


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf, 1e39])
def test_non_finite_values_are_refused(value: float) -> None:
    vector = np.ones(DIM, np.float64)
    vector[1] = value  # 1e39 is finite in float64 but overflows the float32 that is stored
    with pytest.raises(TemplateError) as caught:
        validate(templates({7: vector}), CONFIG)  # type: ignore[dict-item]
    assert caught.value.problem is TemplateProblem.NON_FINITE
    assert caught.value.position == 7


def test_non_finite_face_is_refused() -> None:
    face = np.full(DIM, np.nan, np.float32)
    with pytest.raises(TemplateError) as caught:
        validate(templates({1: unit(0)}, face=face), CONFIG)
    assert caught.value.problem is TemplateProblem.NON_FINITE
    assert caught.value.position is None


def test_zero_vector_is_refused() -> None:
    with pytest.raises(TemplateError) as caught:
        validate(templates({2: np.zeros(DIM, np.float32)}), CONFIG)
    assert caught.value.problem is TemplateProblem.ZERO_VECTOR
    assert caught.value.position == 2


def test_numpy_integer_positions_are_accepted() -> None:
    report = assess(templates({np.int64(4): unit(0), np.uint8(2): unit(0, 0.1)}), CONFIG)
    assert (report.usable_fingers, report.poor_fingers) == ((4,), (2,))


def test_valid_templates_pass_whatever_their_quality() -> None:
    validate(templates({1: unit(0, 0.01), 10: unit(1, 5.0)}, face=unit(2, 0.1)), CONFIG)
    validate(templates({}), CONFIG)


def test_assess_splits_by_raw_norm() -> None:
    report = assess(
        templates({1: unit(0, 0.9), 2: unit(0, 0.29), 3: unit(0, 0.3), 9: unit(1, 0.05)}),
        CONFIG,
    )
    assert report == QualityReport(
        usable_fingers=(1, 3), poor_fingers=(2, 9), face_usable=False, face_poor=False
    )
    assert report.searchable


def test_assess_face() -> None:
    poor_face = assess(templates({1: unit(0, 0.1)}, face=unit(0, 0.2)), CONFIG)
    assert (poor_face.face_usable, poor_face.face_poor, poor_face.searchable) == (
        False, True, False,
    )
    good_face = assess(templates({1: unit(0, 0.1)}, face=unit(0, 1.0)), CONFIG)
    assert (good_face.face_usable, good_face.face_poor, good_face.searchable) == (
        True, False, True,
    )


def test_nothing_present_is_not_searchable() -> None:
    assert not assess(templates({}), CONFIG).searchable
