"""Synthetic profiles: calibrated knobs do what their documentation says, measured."""

from __future__ import annotations

import pytest

from tooling.synth.profile_stats import profile_statistics
from tooling.synth.profiles import PROFILES, profile_model


@pytest.fixture(scope="module")
def stats() -> dict[str, dict[str, object]]:
    names = ("hard", "tenprint", "anisotropic")  # face: tenprint's fingers
    return {name: profile_statistics(profile_model(name), 400) for name in names}


def test_tenprint_fingers_are_far_better_than_hard(stats: dict[str, dict]) -> None:  # type: ignore[type-arg]
    hard, tenprint = stats["hard"]["per_finger"], stats["tenprint"]["per_finger"]
    assert tenprint["genuine_mean"] > hard["genuine_mean"] + 0.15
    # Isotropic 128-d identities: impostor cosine spread 1/sqrt(128) ~ 0.088.
    assert abs(tenprint["impostor_sd"] - 0.088) < 0.005
    assert tenprint["at_fmr_0.001"]["fnmr"] < hard["at_fmr_0.001"]["fnmr"] / 3


def test_anisotropic_impostors_are_correlated_and_heavy_tailed(stats: dict[str, dict]  # type: ignore[type-arg]
                                                               ) -> None:
    tenprint, aniso = stats["tenprint"], stats["anisotropic"]
    assert abs(tenprint["impostor_correlation_across_fingers"]) < 0.01
    assert aniso["impostor_correlation_across_fingers"] > 0.03
    assert aniso["fused"]["impostor_sd"] > 1.1 * tenprint["fused"]["impostor_sd"]
    assert aniso["fused"]["impostor_excess_kurtosis"] > 0.3
    assert abs(tenprint["fused"]["impostor_excess_kurtosis"]) < 0.2


def test_face_profile_and_unknown_names() -> None:
    assert PROFILES["face"].no_fingers > PROFILES["tenprint"].no_fingers
    assert profile_model("tenprint", finger_dim=64).finger_dim == 64
    with pytest.raises(ValueError, match="unknown profile"):
        profile_model("nist")


def test_quality_weighted_fusion_keeps_the_impostor_spread(stats: dict[str, dict]  # type: ignore[type-arg]
                                                           ) -> None:
    plain, weighted = stats["tenprint"]["fused"], stats["tenprint"]["fused_quality_weighted"]
    assert abs(weighted["impostor_sd"] - plain["impostor_sd"]) < 0.005
    assert weighted["genuine_pairs"] == plain["genuine_pairs"]
