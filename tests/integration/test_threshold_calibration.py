"""`abis calibrate` on a real store, and a service following its gallery size
(ABIS_TARGET_FPIR): thresholds from the gallery's impostor tail, every change audited."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from sqlalchemy import create_engine, select

from service.audit.models import AuditEventRow
from tests.service_process import RunningService, cli, free_port
from tooling.bulk.client import load
from tooling.synth.dataset import SynthOptions, generate
from tooling.synth.profiles import profile_model


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("calibrate") / "synth"
    generate(SynthOptions(persons=120, seed=3, mated_probes=0, non_mated_probes=0,
                          model=profile_model("tenprint")), out)
    return out


def _computed(stdout: str) -> dict[str, float]:
    line = next(line for line in stdout.splitlines() if line.startswith('{"target_fpir"'))
    found: dict[str, float] = orjson.loads(line)
    return found


def threshold_events(database_url: str) -> list[dict[str, object]]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            bodies = connection.scalars(select(AuditEventRow.body).where(
                AuditEventRow.operation == "matcher:thresholds").order_by(AuditEventRow.seq))
            return [orjson.loads(body) for body in bodies if body]
    finally:
        engine.dispose()


def test_calibrate_and_follow_the_gallery_size(service: RunningService, population: Path,
                                               database_url: str) -> None:
    summary = load(population, service.url, service.key("EU", "operator"), chunk=100,
                   connections=1, fresh=True, advance=lambda _: None)
    assert summary.stored > 100
    done = cli(service.env, "calibrate", "--target-fpir", "0.01", "--probes", "30",
               "--reference", "100")
    assert done.returncode == 0, done.stderr
    computed = _computed(done.stdout)
    assert computed["gallery_size"] == summary.stored
    assert "ABIS_FINGER_THRESHOLD=" in done.stdout
    refused = cli(service.env, "calibrate", "--target-fpir", "2")
    assert refused.returncode == 2 and "between 0 and 1" in refused.stderr
    events = threshold_events(database_url)
    assert len(events) == 1 and "not applied" in str(events[0]["purpose"])

    service.stop()  # one writer at a time: the follower runs in a service of its own
    follower = RunningService(dict(service.env, ABIS_TARGET_FPIR="0.01"), free_port())
    try:
        follower.start()  # ready only after the first calibration
        applied = threshold_events(database_url)[-1]
        outcome = applied["outcome"]
        assert isinstance(outcome, dict)
        assert outcome["before"]["finger_threshold"] == 0.5
        assert outcome["after"]["gallery_size"] == summary.stored
    finally:
        follower.stop()
    verified = cli(service.env, "audit", "verify")
    assert verified.returncode == 0, verified.stderr
