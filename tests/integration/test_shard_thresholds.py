"""The threshold follower (ABIS_TARGET_FPIR) with the gallery in shard servers (2 partitions,
real `abis shard` processes on 127.0.0.1), raw and with cohort normalisation: its sample is
read from the store, its change is an audited event, and the shards decide with the new
thresholds (they take them with every request)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from service.audit.keys import generate_audit_key_file
from service.crypto.master_key import generate_key_file
from tests.conftest import fresh_database
from tests.factories import new_person_seed, transmission
from tests.integration.test_threshold_calibration import threshold_events
from tests.service_process import RunningService, cli, service_env
from tests.shard_cluster import Cluster

pytestmark = pytest.mark.slow

# Thresholds nothing reaches (a mate's capture included) until the follower replaces them.
UNREACHABLE = {"none": "3.16", "cohort": "1000"}
STATES = ["IT", "DE", "FR", "ES", "GR"]


@pytest.fixture(params=["none", "cohort"])
def cluster(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[Cluster]:
    mode: str = request.param
    data_dir = tmp_path_factory.mktemp(f"shard-thresholds-{mode}")
    generate_key_file(data_dir / "master.key")
    generate_audit_key_file(data_dir / "audit.key")
    for database in fresh_database("sqlite", tmp_path_factory):
        env = service_env(data_dir, database, ABIS_SCORE_NORMALISATION=mode,
                          ABIS_COHORT_SIZE="40", ABIS_FINGER_THRESHOLD=UNREACHABLE[mode],
                          ABIS_FACE_THRESHOLD="0.99")
        running = Cluster.make(env, partitions=2, replicas=1)
        running.start()
        try:
            yield running
        finally:
            running.stop()


def _search(service: RunningService, person: int) -> list[dict[str, object]]:
    """A data subject's access request (category 6, stores nothing) with a new capture."""
    with service.client("NL") as netherlands:
        answer = netherlands.post("/v1/transmissions", json=transmission(
            "NL", 6, person=person, capture=2))
        assert answer.status_code == 200, answer.text
        hits: list[dict[str, object]] = answer.json()["hits"]
        return hits


def test_a_threshold_change_by_the_follower_reaches_the_shards(cluster: Cluster) -> None:
    service = cluster.service
    people = [new_person_seed() for _ in range(150)]
    stored: dict[int, str] = {}
    for n, person in enumerate(people):
        state = STATES[n % len(STATES)]
        body = transmission(state, 1, person=person)
        with service.client(state) as client:
            answer = client.post("/v1/transmissions", json=body)
        assert answer.status_code == 201, answer.text
        stored[person] = body["reference_number"]
    mates = people[:5]
    assert all(_search(service, person) == [] for person in mates)  # nothing reaches them

    service.stop()  # the follower calibrates at start, before the service is ready
    service.env["ABIS_TARGET_FPIR"] = "0.0001"
    service.start(timeout=120)
    events = threshold_events(service.env["ABIS_DATABASE_URL"])
    assert len(events) == 1
    outcome = events[0]["outcome"]
    assert isinstance(outcome, dict)
    assert outcome["before"]["finger_threshold"] == float(UNREACHABLE[
        service.env["ABIS_SCORE_NORMALISATION"]])
    after = outcome["after"]
    assert after["gallery_size"] == len(people)
    for person in mates:  # the shards decide with the follower's thresholds now
        hits = _search(service, person)
        assert [hit["reference_number"] for hit in hits] == [stored[person]]
        if hit_is_finger := hits[0]["modality"] == "fingerprint":
            assert float(hits[0]["score"]) >= after["finger_threshold"]  # type: ignore[arg-type]
        assert hit_is_finger or float(hits[0]["score"]) >= after["face_threshold"]  # type: ignore[arg-type]
    assert all(_search(service, new_person_seed()) == [] for _ in range(5))  # strangers
    verified = cli(service.env, "audit", "verify")
    assert verified.returncode == 0, verified.stderr
