"""The fusion rule, one-to-one."""

from __future__ import annotations

import math

import pytest

from matcher import Comparison, Modality, compare
from tests.unit.matcher.matcher_factories import CONFIG, at_cosine, templates, unit


def test_fused_score_sums_cosines_over_common_positions() -> None:
    probe = templates({1: unit(0), 2: unit(0), 3: unit(0), 4: unit(0)})
    entry = templates({2: at_cosine(0.9), 3: at_cosine(0.6), 4: at_cosine(0.3), 5: unit(0)})
    result = compare(probe, entry, CONFIG)
    assert result is not None
    assert result.modality is Modality.FINGERPRINT
    assert result.fingers_compared == 3
    assert result.score == pytest.approx((0.9 + 0.6 + 0.3) / math.sqrt(3), abs=1e-6)


def test_raw_norm_only_decides_usability() -> None:
    probe = templates({1: unit(0, 0.4), 2: unit(0, 9.0)})
    entry = templates({1: at_cosine(0.5, 3.0), 2: at_cosine(0.5, 0.31)})
    result = compare(probe, entry, CONFIG)
    assert result is not None
    assert result.score == pytest.approx(1.0 / math.sqrt(2), abs=1e-6)


def test_poor_finger_is_left_out_of_the_fusion() -> None:
    probe = templates({1: unit(0), 2: unit(0, 0.1)})
    entry = templates({1: at_cosine(0.8), 2: at_cosine(0.8)})
    assert compare(probe, entry, CONFIG) == Comparison(
        pytest.approx(0.8, abs=1e-6), Modality.FINGERPRINT, 1  # type: ignore[arg-type]
    )


def test_face_is_ignored_while_a_finger_position_is_common() -> None:
    probe = templates({1: unit(0)}, face=unit(0))
    entry = templates({1: at_cosine(0.1)}, face=unit(0))
    result = compare(probe, entry, CONFIG)
    assert result is not None
    assert (result.modality, result.fingers_compared) == (Modality.FINGERPRINT, 1)
    assert result.score == pytest.approx(0.1, abs=1e-6)


@pytest.mark.parametrize(
    ("probe_fingers", "entry_fingers"),
    [({1: unit(0)}, {2: unit(0)}), ({1: unit(0, 0.1)}, {1: unit(0)}), ({}, {})],
    ids=["disjoint positions", "common position unusable", "no fingers"],
)
def test_face_decides_when_no_finger_position_is_usable_in_both(
    probe_fingers: dict[int, object], entry_fingers: dict[int, object]
) -> None:
    probe = templates(probe_fingers, face=unit(0, 2.0))  # type: ignore[arg-type]
    entry = templates(entry_fingers, face=at_cosine(0.4))  # type: ignore[arg-type]
    result = compare(probe, entry, CONFIG)
    assert result is not None
    assert (result.modality, result.fingers_compared) == (Modality.FACE, 0)
    assert result.score == pytest.approx(0.4, abs=1e-6)


def test_not_comparable_without_common_finger_or_two_usable_faces() -> None:
    assert compare(templates({1: unit(0)}), templates({2: unit(0)}), CONFIG) is None
    poor_face = templates({2: unit(0)}, face=unit(0, 0.1))
    assert compare(templates({1: unit(0)}, face=unit(0)), poor_face, CONFIG) is None
