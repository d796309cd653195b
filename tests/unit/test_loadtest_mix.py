"""The load test's user mix, and the officers' pacing that makes `--rate` an offered rate."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

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


_USER_CLASSES = """
from locust.util.load_locustfile import load_locustfile
classes = load_locustfile("loadtests/locustfile.py")[0]  # (user classes, shapes)
print(",".join(sorted(classes)))
"""


@pytest.mark.parametrize(("mix", "expected"), [
    ("", "BorderOfficer,LawEnforcement,Misbehaver,Operator,Supervisor"),
    ("operator=0,bad=0", "BorderOfficer,LawEnforcement,Supervisor"),
])
def test_a_side_role_with_no_users_is_left_out_of_the_locustfile(mix: str,
                                                                 expected: str) -> None:
    # Locust spreads a class whose fixed_count is 0 by weight, like the officers: left in, it
    # would take officers' places. Loaded in a subprocess, as locust does (gevent patching).
    # Locust is the load extra's: `make loadtest-smoke` installs it and runs this test with
    # ABIS_REQUIRE_LOCUST=1, so in CI it runs, never skips.
    if importlib.util.find_spec("locust") is None:
        if os.environ.get("ABIS_REQUIRE_LOCUST"):
            pytest.fail("locust is not installed (make .venv/.installed-load)")
        pytest.skip("locust is not installed: make loadtest-smoke runs this test")
    root = Path(__file__).resolve().parents[2]
    found = subprocess.run(
        [sys.executable, "-c", _USER_CLASSES], cwd=root, capture_output=True, text=True,
        check=True, env={**os.environ, "ABIS_LOADTEST_MIX": mix, "PYTHONPATH": str(root)},
    ).stdout.strip().splitlines()[-1]
    assert found == expected
