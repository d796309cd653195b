"""/metrics on a real server: who may read it, and that the figures move with the traffic."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.factories import new_person_seed, transmission
from tests.promql_names import exposable_names, metric_names
from tests.scrape import scrape
from tests.service_process import RunningService, free_port, service_env


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    """SQLite only: the metrics are the server's, whatever its database."""
    from service.audit.keys import generate_audit_key_file
    from service.crypto.master_key import generate_key_file

    data_dir = tmp_path_factory.mktemp("data")
    generate_key_file(data_dir / "master.key")
    generate_audit_key_file(data_dir / "audit.key")
    running = RunningService(service_env(data_dir, f"sqlite:///{data_dir / 'abis.db'}"),
                             free_port())
    running.start()
    try:
        yield running
    finally:
        running.stop()


def test_only_operators_and_admins_read_metrics(service: RunningService) -> None:
    with service.client("IT") as officer, service.client("EU", "supervisor") as supervisor:
        assert officer.get("/metrics").status_code == 403
        assert supervisor.get("/metrics").status_code == 403
    anonymous = service.client("IT")
    anonymous.headers.pop("Authorization")
    with anonymous:
        refused = anonymous.get("/metrics")
        assert refused.status_code == 401
        assert refused.headers["content-type"].startswith("application/problem+json")
    with service.client("EU", "admin") as admin:
        assert admin.get("/metrics").status_code == 200


def test_metrics_follow_a_hit_across_two_member_states(service: RunningService) -> None:
    person = new_person_seed()
    with service.client("EU", "operator") as operator:
        before = scrape(operator)
        with service.client("IT") as italy, service.client("DE") as germany:
            first = italy.post("/v1/transmissions", json=transmission("IT", 2, person=person))
            assert first.status_code == 201, first.text
            second = germany.post("/v1/transmissions",
                                  json=transmission("DE", 1, person=person, capture=2))
            assert second.json()["result"] == "hit"
            reference = first.json()["reference_number"]
            assert italy.get(f"/v1/datasets/{reference}").status_code == 200
        unauthenticated = service.client("FR")
        unauthenticated.headers["Authorization"] = "Bearer abis_nosuchkey_secret"
        with unauthenticated:
            assert unauthenticated.get("/v1/notifications").status_code == 401
        after = scrape(operator)

    def moved(name: str, **labels: str) -> float:
        return after.value(name, **labels) - before.value(name, **labels)

    assert moved("abis_identifications_total") == 2
    assert moved("abis_gallery_datasets", partition="0") == 2
    assert moved("abis_http_requests_total", route="/v1/transmissions", method="POST",
                 status="201") == 2
    assert moved("abis_http_request_duration_seconds_count", route="/v1/transmissions") == 2
    assert moved("abis_http_requests_total", route="/v1/datasets/{reference_number}",
                 status="200") == 1
    assert moved("abis_writer_batch_size_count") >= 1
    assert moved("abis_authentication_failures_total", member_state="unknown",
                 reason="key") == 1
    assert after.value("abis_ready") == 1
    assert {"urgent", "normal"} <= {sample.labels["priority"] for sample in after.samples
                                     if sample.name == "abis_writer_queue_depth"}
    assert after.value("abis_audit_checkpoint_age_seconds") >= 0
    assert after.value("process_resident_memory_bytes") > 0
    # No reference number, raw path or address in any label.
    assert reference not in after.text
    assert not re.search(r'route="/v1/datasets/[A-Z]{2}\d', after.text)
    assert "127.0.0.1" not in after.text


def test_the_container_health_check_over_plain_http(service: RunningService) -> None:
    import subprocess
    import sys

    env = dict(service.env, ABIS_PORT=str(service.port))
    done = subprocess.run([sys.executable, "-m", "service.healthcheck"], env=env,
                          capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    env["ABIS_PORT"] = "1"  # nothing listens there
    down = subprocess.run([sys.executable, "-m", "service.healthcheck"], env=env,
                          capture_output=True, text=True, timeout=30, check=False)
    assert down.returncode == 1


DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SHARD_TIER_GROUP = "abis-shard-tier"  # read from the shard and writer exporters (test_shards)
FROM_PROMETHEUS = {"up"}  # made by Prometheus itself for every target


def rule_expressions() -> dict[str, list[str]]:
    groups = yaml.safe_load((DEPLOY / "prometheus" / "rules.yml").read_text())["groups"]
    return {group["name"]: [rule["expr"] for rule in group["rules"]] for group in groups}


SHARD_TIER_ROW = "Shard tier"  # the dashboard's row read from the shard and writer exporters


def dashboard_expressions(*, shard_tier: bool = False) -> list[str]:
    """The expressions of the dashboard's top-level panels (the service's own metrics), or of
    the panels in its collapsed shard-tier row (test_shards checks those)."""
    dashboard = json.loads((DEPLOY / "grafana" / "abis.json").read_text())
    panels = [child for row in dashboard["panels"] if row["type"] == "row"
              and row["title"].startswith(SHARD_TIER_ROW) for child in row["panels"]
              ] if shard_tier else dashboard["panels"]
    return [target["expr"] for panel in panels for target in panel.get("targets", [])]


def test_dashboard_and_alert_rules_query_metrics_the_service_exposes(
    service: RunningService,
) -> None:
    with service.client("EU", "operator") as operator:
        exposed = exposable_names({name: family.type
                                   for name, family in scrape(operator).families.items()})
    exposed |= FROM_PROMETHEUS
    rules = rule_expressions()
    assert set(rules) == {"abis", SHARD_TIER_GROUP}
    live = [*dashboard_expressions(), *rules["abis"]]
    named = set().union(*(metric_names(expression) for expression in live))
    assert len(named) >= 10  # the dashboard and rules cover the service's metrics
    assert named <= exposed, f"not exposed: {sorted(named - exposed)}"
