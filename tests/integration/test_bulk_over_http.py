"""Bulk ingest and the evaluation search over a real server: per-item rules, resumability."""

from __future__ import annotations

from pathlib import Path

import httpx
import orjson
import pytest

from tests.factories import new_person_seed, transmission
from tests.service_process import RunningService, cli
from tooling.bulk.client import load, progress_path
from tooling.synth.dataset import SynthOptions, generate, read_lines, read_manifest, read_records


@pytest.fixture(scope="module")
def service(synthetic_service: RunningService) -> RunningService:
    """Bulk loads and evaluations run on a synthetic deployment."""
    return synthetic_service


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bulk") / "synth"
    generate(SynthOptions(persons=40, seed=11, mated_probes=5, non_mated_probes=5), out)
    return out


class _Interrupted(Exception):
    pass


def _expected(directory: Path) -> tuple[int, int]:
    manifest = read_manifest(directory)
    return manifest["counts"]["encounters"], manifest["counts"]["expected_refused"]


def test_interrupted_load_resumes_without_storing_twice(
    service: RunningService, population: Path
) -> None:
    key = service.key("EU", "operator")
    total, refused = _expected(population)
    seen = 0

    def interrupt(count: int) -> None:
        nonlocal seen
        seen += count
        if seen >= 15:
            raise _Interrupted

    with pytest.raises(_Interrupted):  # fresh: another backend's server may have had the port
        load(population, service.url, key, chunk=10, connections=1, fresh=True,
             advance=interrupt)
    done = orjson.loads(progress_path(population, service.url).read_bytes())["done"]
    assert 0 < len(done) < total / 10

    resumed = load(population, service.url, key, chunk=10, connections=1)
    assert resumed.items == total
    assert resumed.refused == refused
    # Items of the interrupted chunk stored before the interruption answer duplicate.
    assert resumed.stored + resumed.duplicate == total - refused
    assert resumed.hits > 0  # journeys cross Member States: later encounters hit earlier ones
    assert all("insufficient-quality" in reason or "no biometric" in reason
               for reason in resumed.reasons)

    # Without the progress file everything is sent again: nothing is stored twice.
    progress_path(population, service.url).unlink()
    again = load(population, service.url, key, chunk=50, connections=2)
    assert again.stored == 0 and again.duplicate == total - refused


def _post_bulk(service: RunningService, key: str, body: bytes) -> list[dict[str, object]]:
    answer = httpx.post(f"{service.url}/v1/bulk/transmissions", content=body, timeout=60,
                        headers={"Authorization": f"Bearer {key}",
                                 "content-type": "application/x-ndjson"})
    assert answer.status_code == 200, answer.text
    return [orjson.loads(line) for line in answer.content.splitlines()]


def test_member_state_keys_load_only_their_own_and_bad_lines_are_refused_alone(
    service: RunningService,
) -> None:
    person = new_person_seed()
    own = {"transmission": transmission("IT", 2, person=person)}
    foreign = {"member_state": "DE", "transmission": transmission("DE", 1, person=person)}
    search_only = {"transmission": transmission("IT", 6, person=person, capture=3)}
    body = b"\n".join([orjson.dumps(own), b"{not json", orjson.dumps(foreign),
                       b"x" * 300_000, orjson.dumps(search_only)]) + b"\n"
    lines = _post_bulk(service, service.key("IT", "operator"), body)
    summary = lines[-1]
    assert summary == {"kind": "summary", "items": 5, "stored": 1, "searched": 0,
                       "duplicate": 0, "refused": 4, "hits": 0}
    by_line = {line["line"]: line for line in lines[:-1]}
    assert by_line[1]["status"] == "stored"
    problems = {n: by_line[n]["problem"]["type"] for n in (2, 3, 4, 5)}  # type: ignore[index]
    assert problems == {2: "/problems/invalid-input", 3: "/problems/forbidden",
                        4: "/problems/invalid-input", 5: "/problems/category-not-allowed"}
    # The EU operator may load for Germany: the German dataset hits the Italian one.
    lines = _post_bulk(service, service.key("EU", "operator"), orjson.dumps(foreign) + b"\n")
    assert lines[0]["status"] == "stored" and lines[0]["hits"] == [
        own["transmission"]["reference_number"]]


def test_bulk_and_evaluation_are_for_operators_only(service: RunningService) -> None:
    officer = service.key("IT", "officer")
    answer = httpx.post(f"{service.url}/v1/bulk/transmissions", content=b"{}\n",
                        headers={"Authorization": f"Bearer {officer}"})
    assert answer.status_code == 403
    answer = httpx.post(f"{service.url}/v1/evaluation/search", json={"probes": []},
                        headers={"Authorization": f"Bearer {officer}"})
    assert answer.status_code == 403  # the role is checked before the body


def _evaluate(service: RunningService, key: str, population: Path) -> dict[str, object]:
    manifest = read_manifest(population)
    lines = [line for name in manifest["probes"]
             for line in read_lines(population / "probes" / name)]
    body = b'{"limit":20,"probes":[' + b",".join(lines) + b"]}"
    answer = httpx.post(f"{service.url}/v1/evaluation/search", content=body, timeout=60,
                        headers={"Authorization": f"Bearer {key}",
                                 "content-type": "application/json"})
    assert answer.status_code == 200, answer.text
    result: dict[str, object] = answer.json()
    return result


def test_a_member_states_operator_sees_others_only_where_a_hit_would_show_them(
    service: RunningService, population: Path
) -> None:
    load(population, service.url, service.key("EU", "operator"))  # a no-op after the first
    everything = _evaluate(service, service.key("EU", "operator"), population)
    candidates = [c for r in everything["results"] for c in r["candidates"]]  # type: ignore
    states = [c["reference_number"][:2] for c in candidates]
    own = max(set(states), key=states.count)
    scoped = _evaluate(service, service.key(own, "operator"), population)

    def threshold(candidate: dict[str, object]) -> float:
        return 0.5 if candidate["modality"] == "fingerprint" else 0.35

    expected = {r["probe_id"]: [c for c in r["candidates"]  # type: ignore[index]
                                if c["reference_number"][:2] == own
                                or c["score"] >= threshold(c)]
                for r in everything["results"]}  # type: ignore[union-attr]
    assert {r["probe_id"]: r["candidates"]
            for r in scoped["results"]} == expected  # type: ignore[union-attr]
    hidden = [c for c in candidates if c["reference_number"][:2] != own
              and c["score"] < threshold(c)]
    assert hidden  # the test shows something: sub-threshold foreign candidates exist
    assert 0 < scoped["gallery_size"] < everything["gallery_size"]  # type: ignore[operator]


def test_evaluation_search_lists_candidates_below_the_threshold(
    service: RunningService, population: Path
) -> None:
    key = service.key("EU", "operator")
    load(population, service.url, key)  # a no-op when the first test ran
    manifest = read_manifest(population)
    truth = {r["reference_number"]: r["person"]
             for r in read_records(population / "truth", manifest["truth"]["encounters"])}
    probes = {r["probe_id"]: r for r in read_records(population / "truth",
                                                     manifest["truth"]["probes"])}
    lines = [line for name in manifest["probes"]
             for line in read_lines(population / "probes" / name)]
    body = b'{"limit":5,"probes":[' + b",".join(lines) + b"]}"
    answer = httpx.post(f"{service.url}/v1/evaluation/search", content=body, timeout=60,
                        headers={"Authorization": f"Bearer {key}",
                                 "content-type": "application/json"})
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert len(results) == 10
    for result in results:
        candidates = result["candidates"]
        assert len(candidates) == 5  # whatever their score
        truth_of = probes[result["probe_id"]]
        best = candidates[0]
        if truth_of["mated"]:
            assert truth.get(best["reference_number"]) == truth_of["person"]
        else:
            assert best["score"] < 0.5


def test_cli_fails_clearly_on_bad_input(service: RunningService, tmp_path: Path) -> None:
    done = cli(service.env, "load", str(tmp_path), "--url", service.url, "--key", "x")
    assert done.returncode == 2 and "no manifest.json" in done.stderr
    assert "Traceback" not in done.stderr
