"""deploy/k8s renders with kustomize for every overlay, and what it renders is valid Kubernetes:
core kinds against the API schemas, custom resources against their required fields, yamllint-clean."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from yamllint import linter
from yamllint.config import YamlLintConfig

ROOT = Path(__file__).resolve().parents[2]
OVERLAYS = ("dev", "prod")
KUBERNETES_VERSION = "1.31"
APP_SERVICES = ("ingress", "conversation", "registration", "notifier")
# Custom resources of the operators we rely on: no schema here, so check what they cannot lack.
CUSTOM = {
    "RabbitmqCluster": ("spec.replicas", "spec.rabbitmq.additionalPlugins"),
    "Cluster": ("spec.instances", "spec.bootstrap.initdb.database"),
    "ScheduledBackup": ("spec.schedule", "spec.cluster.name"),
    "ScaledObject": ("spec.scaleTargetRef.name", "spec.triggers"),
    "TriggerAuthentication": ("spec.secretTargetRef",),
    "PodMonitor": ("spec.selector", "spec.podMetricsEndpoints"),
}


def kustomize(overlay: str) -> list[dict]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        if os.environ.get("CI"):
            pytest.fail("kubectl (with kustomize) is missing on this machine")
        pytest.skip("kubectl not installed")
    result = subprocess.run(
        [kubectl, "kustomize", str(ROOT / "deploy" / "k8s" / "overlays" / overlay)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def dig(obj: dict, path: str) -> object:
    for part in path.split("."):
        obj = obj[part]
    return obj


@pytest.fixture(scope="module", params=OVERLAYS)
def rendered(request) -> list[dict]:
    return kustomize(request.param)


def test_every_core_object_is_valid_against_the_kubernetes_schemas(rendered):
    for doc in rendered:
        if doc["kind"] in CUSTOM:
            continue
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_custom_resources_carry_what_their_operators_need(rendered):
    for doc in rendered:
        for path in CUSTOM.get(doc["kind"], ()):
            assert dig(doc, path), f"{doc['kind']} {doc['metadata']['name']}: {path}"


def test_each_service_has_probes_resources_a_budget_and_scaling(rendered):
    by_kind: dict[str, dict[str, dict]] = {}
    for doc in rendered:
        by_kind.setdefault(doc["kind"], {})[doc["metadata"]["name"]] = doc
    for name in APP_SERVICES:
        [container] = by_kind["Deployment"][name]["spec"]["template"]["spec"]["containers"]
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["resources"]["requests"] and container["resources"]["limits"]
        assert name in by_kind["Service"] and name in by_kind["PodDisruptionBudget"]
    assert "ingress" in by_kind["HorizontalPodAutoscaler"]
    assert {"conversation", "registration", "notifier"} <= set(by_kind["ScaledObject"])
    assert by_kind["ScaledObject"]["conversation"]["spec"]["maxReplicaCount"] <= 16  # one per shard
    plugins = by_kind["RabbitmqCluster"]["congress-rabbitmq"]["spec"]["rabbitmq"]["additionalPlugins"]
    assert "rabbitmq_consistent_hash_exchange" in plugins
    assert "congress-grafana-dashboard" in by_kind["ConfigMap"]  # the compose dashboard, for Grafana
    assert "congress-prometheus-rules" in by_kind["ConfigMap"]


def test_registration_waits_for_the_migration_job(rendered):
    kinds = {(d["kind"], d["metadata"]["name"]): d for d in rendered}
    job = kinds[("Job", "registration-migrate")]
    assert job["spec"]["template"]["spec"]["containers"][0]["command"] == ["congress-registration", "migrate"]
    [init] = kinds[("Deployment", "registration")]["spec"]["template"]["spec"]["initContainers"]
    assert init["command"][:2] == ["congress-registration", "wait-migrated"]


def test_prod_takes_secrets_from_outside_and_dev_brings_its_own():
    prod = {(d["kind"], d["metadata"]["name"]) for d in kustomize("prod")}
    dev = {(d["kind"], d["metadata"]["name"].rsplit("-", 1)[0]) for d in kustomize("dev")}
    assert not any(kind == "Secret" for kind, _ in prod)
    assert ("Secret", "congress-secrets") in dev


def test_yaml_is_lint_clean():
    conf = YamlLintConfig(file=str(ROOT / ".yamllint.yaml"))
    files = [ROOT / "docker-compose.yml", *sorted((ROOT / "deploy").rglob("*.y*ml"))]
    problems = [
        f"{path.relative_to(ROOT)}:{p.line}: {p.message}"
        for path in files
        for p in linter.run(path.read_text(encoding="utf-8"), conf, str(path))
    ]
    assert not problems, "\n".join(problems)
