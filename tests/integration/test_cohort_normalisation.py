"""ABIS_SCORE_NORMALISATION=cohort in the running service, black box over HTTP: on a small
anisotropic synthetic gallery (loaded with the bulk client) mated probes find their person,
decided and scored in cohort z units, and strangers get no hit, in one process and behind
`abis serve --workers 2` (the cohort lives in the writer; the API workers hold none); a
threshold of the other unit stops the service at once, naming the cause."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import pytest

from service.audit.keys import generate_audit_key_file
from service.crypto.master_key import generate_key_file
from service.matcher_settings import matcher_config
from service.scores.units import RAW_CEILING
from service.settings import Settings
from tests.conftest import fresh_database
from tests.factories import new_person_seed, transmission
from tests.service_process import RunningService, cli, free_port, service_env
from tooling.bulk.client import load
from tooling.evaluation.local import usable_templates
from tooling.synth.dataset import SynthOptions, generate, read_lines, read_records
from tooling.synth.profiles import profile_model

Z_THRESHOLD = "6.0"  # above any raw fused score: only a z-score can reach it


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cohort") / "synth"
    generate(SynthOptions(persons=150, seed=11, mated_probes=25, non_mated_probes=25,
                          model=profile_model("anisotropic")), out)
    return out


@pytest.fixture(scope="module", params=[0, 2], ids=["serve", "serve-workers-2"])
def cohort_service(database_url: str, tmp_path_factory: pytest.TempPathFactory,
                   request: pytest.FixtureRequest) -> Iterator[RunningService]:
    # A database of its own: each service here has its own master key.
    backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    with contextmanager(fresh_database)(backend, tmp_path_factory) as own_database:
        yield from _cohort_service(own_database, tmp_path_factory, workers=request.param)


def _cohort_service(database_url: str, tmp_path_factory: pytest.TempPathFactory, workers: int
                    ) -> Iterator[RunningService]:
    data_dir = tmp_path_factory.mktemp("cohort-data")
    generate_key_file(data_dir / "master.key")
    generate_audit_key_file(data_dir / "audit.key")
    running = RunningService(service_env(
        data_dir, database_url, ABIS_SCORE_NORMALISATION="cohort", ABIS_COHORT_SIZE="60",
        ABIS_FINGER_THRESHOLD=Z_THRESHOLD), free_port(), workers=workers)
    running.start()
    try:
        yield running
    finally:
        running.stop()


def _probes(population: Path) -> list[dict[str, Any]]:
    manifest = orjson.loads((population / "manifest.json").read_bytes())
    truth = {record["probe_id"]: record
             for record in read_records(population / "truth", manifest["truth"]["probes"])}
    config = matcher_config(Settings())
    probes = []
    for name in manifest["probes"]:
        for line in read_lines(population / "probes" / name):
            probe = orjson.loads(line)
            if usable_templates(probe["biometrics"], config) is not None:  # else refused (FTA)
                probes.append(dict(truth[probe["probe_id"]], biometrics=probe["biometrics"]))
    return probes


def _references_of(population: Path) -> dict[int, set[str]]:
    manifest = orjson.loads((population / "manifest.json").read_bytes())
    persons: dict[int, set[str]] = {}
    for record in read_records(population / "truth", manifest["truth"]["encounters"]):
        persons.setdefault(record["person"], set()).add(record["reference_number"])
    return persons


def test_mates_are_found_in_z_units_and_strangers_get_no_hit(
    cohort_service: RunningService, population: Path
) -> None:
    summary = load(population, cohort_service.url, cohort_service.key("EU", "operator"),
                   chunk=100, connections=1, fresh=True, advance=lambda _: None)
    assert summary.stored > 150
    references = _references_of(population)
    probes = _probes(population)
    found = missed = false_hits = by_fingerprint = 0
    finger_scores: list[float] = []
    with cohort_service.client("DE") as germany:
        for probe in probes:
            # A data subject's access request (category 6): searches everything, stores nothing.
            body = dict(transmission("DE", 6, person=new_person_seed()),
                        biometrics=probe["biometrics"])
            answer = germany.post("/v1/transmissions", json=body)
            assert answer.status_code == 200, answer.text
            hits = answer.json()["hits"]
            finger_scores += [hit["score"] for hit in hits if hit["modality"] == "fingerprint"]
            if not probe["mated"]:
                false_hits += bool(hits)
                continue
            mates = [hit for hit in hits
                     if hit["reference_number"] in references.get(probe["person"], set())]
            if not mates:
                missed += 1
                continue
            found += 1
            by_fingerprint += any(hit["modality"] == "fingerprint" for hit in mates)
    assert false_hits == 0
    assert missed <= 1, (found, missed)
    # Decided and reported as z (face-only mates are found by face, as without cohort).
    assert by_fingerprint >= 0.8 * found, (by_fingerprint, found)
    assert finger_scores and min(finger_scores) >= float(Z_THRESHOLD) > RAW_CEILING


def _serve(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = dict(env, ABIS_PORT=str(free_port()), ABIS_HOST="127.0.0.1")
    return subprocess.run([sys.executable, "-m", "service", "serve"], env=env,
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize(("settings", "named"), [
    ({"ABIS_SCORE_NORMALISATION": "cohort"}, "is a raw fused score"),
    ({"ABIS_SCORE_NORMALISATION": "cohort", "ABIS_FINGER_THRESHOLD": "0.62"},
     "is a raw fused score"),
    ({"ABIS_FINGER_THRESHOLD": "7.1"}, "looks like a cohort z threshold"),
])
def test_a_threshold_of_the_wrong_unit_stops_the_service(
    database_url: str, tmp_path: Path, settings: dict[str, str], named: str
) -> None:
    generate_key_file(tmp_path / "master.key")
    generate_audit_key_file(tmp_path / "audit.key")
    env = service_env(tmp_path, database_url, **settings)
    assert cli(env, "db", "upgrade").returncode == 0
    done = _serve(env)
    assert done.returncode != 0
    assert "ABIS_FINGER_THRESHOLD" in done.stderr and named in done.stderr
    assert "Traceback" not in done.stderr
    refused = cli(env, "calibrate", "--target-fpir", "0.01")
    assert refused.returncode == 2 and named in refused.stderr
