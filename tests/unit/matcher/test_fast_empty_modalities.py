"""A fast gallery whose first entries lack a modality (regression: a process crash).

FAISS's fast-scan index crashes the whole process (segmentation fault) when zero rows are added
to an empty index; a finger-only dataset as the first entry of a fresh gallery did exactly
that. Each scenario runs in its own interpreter, so a crash fails this test instead of killing
the test run.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

_SCENARIO = textwrap.dedent("""
    import numpy as np
    import matcher

    config = matcher.MatcherConfig(finger_dim=64, face_dim=128)
    rng = np.random.default_rng(7)
    everyone = matcher.Eligibility(groups=frozenset({1}))
    meta = matcher.EntryMeta(group=1, member_state=0)

    def unit(dim):
        vector = rng.standard_normal(dim).astype(np.float32)
        return vector / np.linalg.norm(vector)

    def fingers():
        return {position: unit(64) for position in range(1, 11)}

    gallery = matcher.Gallery(config, index="fast")
    FIRST
    stored = fingers()
    gallery.add(10, matcher.Templates(stored, None), meta)
    face_only = matcher.Templates({}, unit(128))
    assert gallery.search(face_only, everyone).hits == ()
    found = gallery.search(matcher.Templates(stored, unit(128)), everyone).hits
    assert [hit.entry_id for hit in found] == [10], found
    gallery.remove(10)
    gallery.add(11, matcher.Templates({}, unit(128)), meta)
    print("ok")
""")


@pytest.mark.parametrize("first", [
    "pass",  # a finger-only dataset into an empty gallery
    "gallery.add(1, matcher.Templates(fingers(), None), meta)",
    "gallery.add(1, matcher.Templates({}, unit(128)), meta)",  # face-only first
])
def test_entries_without_a_modality_never_crash_the_fast_index(first: str) -> None:
    done = subprocess.run([sys.executable, "-c", _SCENARIO.replace("FIRST", first)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "ok"
