"""The load test's user mix, and the officers' pacing that makes `--rate` an offered rate."""

from __future__ import annotations

import pytest

from loadtests.mix import DEFAULT_SIDE_ROLES, officer_pacing, side_roles


def test_side_roles_default_to_one_each_and_can_be_changed() -> None:
    assert side_roles("") == DEFAULT_SIDE_ROLES
    assert side_roles("police=3, bad=0") == {"police": 3, "supervisor": 1, "operator": 1,
                                             "bad": 0}


@pytest.mark.parametrize("mix", ["officer=40", "police", "police=-1", "bad=x"])
def test_a_mix_that_names_no_side_role_or_no_count_is_refused(mix: str) -> None:
    with pytest.raises(ValueError, match="--mix"):
        side_roles(mix)


def test_pacing_spreads_the_rate_over_the_officers() -> None:
    # 32 users less the four side roles are 28 officers; together 280/s is one each 0.1 s.
    assert officer_pacing(32, "", 280) == pytest.approx(0.1)
    assert officer_pacing(32, "bad=0", 310) == pytest.approx(29 / 310)


@pytest.mark.parametrize(("users", "rate"), [(4, 100.0), (32, 0.0), (32, -5.0)])
def test_pacing_needs_officers_and_a_positive_rate(users: int, rate: float) -> None:
    with pytest.raises(ValueError, match="--rate"):
        officer_pacing(users, "", rate)
