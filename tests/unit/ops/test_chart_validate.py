"""The rendered manifests are valid Kubernetes objects, and deploy/ is what the chart renders."""

from __future__ import annotations

import subprocess

import kubernetes_validate  # type: ignore[import-untyped]
import pytest

from tests.unit.ops.chart import PRODUCTION, REPO, render, tool

KUBERNETES_VERSIONS = ("1.29.0", "1.30.0", "1.31.0")
# Prometheus Operator's kinds: their schemas are the operator's CRDs, not Kubernetes'.
SKIPPED_KINDS = {"ServiceMonitor", "PrometheusRule"}


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("values", ["default", "production"])
def test_every_rendered_object_passes_strict_kubernetes_validation(
    version: str, values: str
) -> None:
    docs = render([PRODUCTION] if values == "production" else [])
    checked = 0
    for doc in docs:
        if doc["kind"] in SKIPPED_KINDS:
            continue
        # Raises on an unknown field, a wrong type, or a kind this version does not know.
        kubernetes_validate.validate(doc, version, strict=True)
        checked += 1
    assert checked >= 30


def test_validation_rejects_a_misspelt_field() -> None:
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "x"},
        "spec": {"selectr": {"a": "b"}},
    }
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(service, "1.30.0", strict=True)


def test_plain_manifests_equal_what_the_chart_renders() -> None:
    tool("helm")
    result = subprocess.run(
        ["bash", "scripts/render_k8s.sh", "--check"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_plain_manifests_hold_the_workloads_migrations_and_monitoring_apart() -> None:
    kinds = {}
    for part in ("sparky", "migrations", "monitoring"):
        text = (REPO / "deploy" / "k8s" / f"{part}.yaml").read_text()
        kinds[part] = {
            line.split(": ")[1] for line in text.splitlines() if line.startswith("kind:")
        }
    assert kinds["migrations"] == {"Job"}
    assert kinds["monitoring"] == {"ServiceMonitor", "PrometheusRule", "ConfigMap"}
    assert {"Deployment", "StatefulSet", "NetworkPolicy", "Ingress"} <= kinds["sparky"]
    assert "Job" not in kinds["sparky"]
