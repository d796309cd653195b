"""The synthetic population: deterministic, streamed, truth apart, plausible identity data."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import orjson
import pytest

from schemas.bulk import BulkItem
from service.rules.dates import old_enough
from tooling.synth.captures import CaptureModel
from tooling.synth.dataset import (
    Population,
    SynthOptions,
    generate,
    read_lines,
    read_manifest,
    read_records,
)
from tooling.synth.names import BY_CODE

SMALL = SynthOptions(persons=60, seed=5, mated_probes=10, non_mated_probes=10, shard_size=25)


@pytest.fixture(scope="module")
def synth_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "out"
    generate(SMALL, out)
    return out


def _files(directory: Path) -> dict[str, bytes]:
    return {str(path.relative_to(directory)): path.read_bytes()
            for path in sorted(directory.rglob("*")) if path.is_file()}


def test_same_seed_same_bytes_other_seed_other_data(synth_dir: Path, tmp_path: Path) -> None:
    generate(SMALL, tmp_path / "again")
    assert _files(tmp_path / "again") == _files(synth_dir)
    other = SynthOptions(persons=60, seed=6, mated_probes=10, non_mated_probes=10, shard_size=25)
    generate(other, tmp_path / "other")
    assert _files(tmp_path / "other")["load/datasets-00000.ndjson"] != (
        _files(synth_dir)["load/datasets-00000.ndjson"])


def test_output_is_sharded_and_any_person_regenerates_alone(synth_dir: Path) -> None:
    manifest = read_manifest(synth_dir)
    assert len(manifest["load"]) >= 3  # 25 lines per shard
    lines = [orjson.loads(line) for name in manifest["load"]
             for line in read_lines(synth_dir / "load" / name)]
    assert len(lines) == manifest["counts"]["encounters"]
    # Person 41 alone, without generating the 41 before it, gives the same encounters.
    truth = list(read_records(synth_dir / "truth", manifest["truth"]["encounters"]))
    expected = [record["reference_number"] for record in truth if record["person"] == 41]
    subject = Population(SMALL.seed, SMALL.model, SMALL.end, SMALL.years).subject(41)
    assert [encounter.reference_number for encounter in subject.encounters] == expected


def test_what_is_loaded_names_no_person(synth_dir: Path) -> None:
    manifest = read_manifest(synth_dir)
    truth = {record["reference_number"]: record["person"] for record in
             read_records(synth_dir / "truth", manifest["truth"]["encounters"])}
    for name in manifest["load"]:
        for line in read_lines(synth_dir / "load" / name):
            item = BulkItem.model_validate_json(line)  # exactly what the bulk endpoint takes
            assert set(orjson.loads(line)) == {"member_state", "transmission"}
            assert item.transmission.reference_number in truth
            assert item.transmission.reference_number[:2] == item.member_state
    probe_truth = list(read_records(synth_dir / "truth", manifest["truth"]["probes"]))
    for name in manifest["probes"]:
        for line in read_lines(synth_dir / "probes" / name):
            assert set(orjson.loads(line)) == {"probe_id", "biometrics"}
    assert sum(record["mated"] for record in probe_truth) == 10
    non_mated = {record["person"] for record in probe_truth if not record["mated"]}
    assert not non_mated & set(truth.values())  # never loaded


def test_identity_data_is_consistent_and_old_enough(synth_dir: Path) -> None:
    manifest = read_manifest(synth_dir)
    truth = {record["reference_number"]: record["person"] for record in
             read_records(synth_dir / "truth", manifest["truth"]["encounters"])}
    people: dict[int, dict[str, object]] = {}
    for item in read_records(synth_dir / "load", manifest["load"]):
        body = item["transmission"]
        person = body["person"]
        nationality = BY_CODE[person["nationality"]]
        assert person["family_name"] in nationality.family
        given = {"F": nationality.given_female, "M": nationality.given_male}.get(
            person["sex"], nationality.given_female + nationality.given_male)
        assert person["given_names"] in given
        if "document" in person:
            assert person["document"]["issuing_country"] == person["nationality"]
        taken = dt.datetime.fromisoformat(body["taken_at"])
        assert taken.tzinfo is not None and taken.date() <= SMALL.end
        assert old_enough(dt.date.fromisoformat(person["date_of_birth"]), taken.date())
        # One person, one identity across encounters.
        assert people.setdefault(truth[body["reference_number"]], person) == person


def test_genuine_scores_mostly_above_and_impostors_below_the_threshold() -> None:
    import matcher

    model = CaptureModel()
    population = Population(3, model, SMALL.end, SMALL.years)
    config = matcher.MatcherConfig()
    genuine, impostor = [], []
    for person in range(150):
        a, b = population.probe(person), population.probe(person + 1000)
        mate = population.subject(person).encounters[0].capture
        for other, scores in ((mate, genuine), (b, impostor)):
            found = matcher.compare(matcher.Templates(a.fingers, a.face),
                                    matcher.Templates(other.fingers, other.face), config)
            if found is not None and found.modality is matcher.Modality.FINGERPRINT:
                scores.append(found.score)
    below = sum(score < 0.5 for score in genuine) / len(genuine)
    assert 0.0 <= below < 0.1  # neither hopeless...
    assert max(impostor) < 0.5  # ...nor random
    assert sorted(genuine)[len(genuine) // 2] > 1.0


def test_bad_options_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        SynthOptions(persons=0)
    with pytest.raises(ValueError):
        SynthOptions(persons=5, mated_probes=6)
    (tmp_path / "x").write_text("")
    with pytest.raises(FileExistsError):
        generate(SynthOptions(persons=1, mated_probes=0, non_mated_probes=0), tmp_path)
