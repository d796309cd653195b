"""The in-process evaluation: a matcher gallery from the synthetic files, judged by the truth."""

from __future__ import annotations

from pathlib import Path

import matcher
from tooling.evaluation.local import gather_locally
from tooling.evaluation.report import write_report
from tooling.synth.dataset import SynthOptions, generate, read_manifest


def test_mated_probes_find_their_person_and_the_report_is_written(tmp_path: Path) -> None:
    generate(SynthOptions(persons=80, seed=21, mated_probes=30, non_mated_probes=30),
             tmp_path / "synth")
    counts = read_manifest(tmp_path / "synth")["counts"]
    gathered = gather_locally(tmp_path / "synth", matcher.MatcherConfig(), limit=10,
                              advance=lambda n: None)
    assert gathered.gallery_size == counts["encounters"] - counts["expected_refused"]
    assert (len(gathered.mated) + gathered.mated_without_mate_in_gallery
            + gathered.failures_to_acquire_mated) == 30
    assert len(gathered.non_mated) + gathered.failures_to_acquire_non_mated == 30
    figures = write_report(gathered, 0.5, tmp_path / "report")
    assert figures["rank1_identification_rate"] > 0.9
    assert figures["at_decision_threshold"]["fpir"] < 0.1
    for name in ("report.md", "metrics.json", "det.png", "scores.png"):
        assert (tmp_path / "report" / name).stat().st_size > 0


def test_failures_to_acquire_are_counted_not_retried(tmp_path: Path) -> None:
    from dataclasses import replace

    from tooling.synth.captures import CaptureModel

    model = replace(CaptureModel(), failed_session=0.3)
    generate(SynthOptions(persons=40, seed=4, mated_probes=20, non_mated_probes=20, model=model),
             tmp_path / "synth")
    counts = read_manifest(tmp_path / "synth")["counts"]
    assert counts["probes_expected_refused"] > 0
    gathered = gather_locally(tmp_path / "synth", matcher.MatcherConfig(), limit=5,
                              advance=lambda n: None)
    failures = gathered.failures_to_acquire_mated + gathered.failures_to_acquire_non_mated
    assert failures == counts["probes_expected_refused"]
    figures = write_report(gathered, 0.5, tmp_path / "report")
    assert sum(figures["failures_to_acquire"].values()) == failures
    assert "failures to acquire" in (tmp_path / "report" / "report.md").read_text()
