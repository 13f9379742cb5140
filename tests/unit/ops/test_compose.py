"""docker-compose.yml (cannot run here): well formed, every service built and configured."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.unit.ops.chart import COMPONENTS, REPO, container, env_of, program, render
from tests.unit.ops.settings import load, unknown_variables

INFRASTRUCTURE = ("nats", "postgres", "redis", "vault", "mail")
# What only a cluster sets: the chart's Kubernetes auth and the pod's own name.
CLUSTER_ONLY = {
    "SPARKY_EXECUTOR_REPLICA_INDEX_FROM_HOSTNAME",
    "SPARKY_ROUTER_REPLICA_INDEX_FROM_HOSTNAME",
    "SPARKY_EXECUTOR_VAULT_KUBERNETES_MOUNT",
    "SPARKY_EXECUTOR_VAULT_KUBERNETES_ROLE",
    "SPARKY_EXECUTOR_VAULT_WRITE_AUTH",
    "SPARKY_EXECUTOR_VAULT_WRITE_KUBERNETES_ROLE",
}


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    return loaded


def _env(service: str) -> dict[str, str]:
    env = _compose()["services"][service]["environment"]
    return {name: str(value) for name, value in env.items()}


def test_compose_runs_the_infrastructure_and_every_service_from_the_dockerfile() -> None:
    services = _compose()["services"]
    assert set(services) == {*INFRASTRUCTURE, *COMPONENTS}
    assert "-js" in services["nats"]["command"]
    assert "-dev" in services["vault"]["command"]
    for service in COMPONENTS:
        spec = services[service]
        assert spec["build"] == {"context": ".", "args": {"SERVICE": program(service)}}
        assert spec["command"] == ["python", "-m", f"services.{program(service)}"]
        assert spec["read_only"] is True


@pytest.mark.parametrize("service", COMPONENTS)
def test_compose_sets_the_variables_the_chart_sets(service: str) -> None:
    chart = set(env_of(container(render(), service))) - CLUSTER_ONLY
    assert chart - set(_env(service)) == set()
    assert not unknown_variables(service, set(_env(service)))


@pytest.mark.parametrize("service", COMPONENTS)
def test_every_service_starts_with_the_compose_environment(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load(monkeypatch, service, _env(service))
    assert settings.environment == "dev"
    assert settings.nats_url == "nats://nats:4222"


def test_services_wait_for_healthy_infrastructure() -> None:
    services = _compose()["services"]
    for name in INFRASTRUCTURE:
        assert services[name]["healthcheck"]["test"]
    for service in ("ingress", "router", "ledger", "billing"):
        assert services[service]["depends_on"]["nats"] == {"condition": "service_healthy"}
    for service in ("executor", "accounts"):
        assert services[service]["depends_on"]["vault"] == {"condition": "service_healthy"}
    assert services["web"]["depends_on"]["mail"] == {"condition": "service_healthy"}
    roles = {s: _env(s)["SPARKY_EXECUTOR_ROLE"] for s in ("executor", "accounts")}
    assert roles == {"executor": "trading", "accounts": "accounts"}
