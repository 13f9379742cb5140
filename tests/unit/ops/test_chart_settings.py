"""The environment the chart gives each pod is what the service's settings class reads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.unit.ops.chart import (
    COMPONENTS,
    DATABASE_SERVICES,
    PRODUCTION,
    Doc,
    container,
    env_of,
    pod_specs,
    program,
    workload,
)
from tests.unit.ops.chart import render as render_chart
from tests.unit.ops.settings import fake_secret, load, unknown_variables

SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|API_KEY|DATABASE_URL|_KEY_|SIGNING_KEY")
RENDERS = {"default": (), "production": (PRODUCTION,)}


def _services(values: tuple[Path, ...]) -> list[str]:
    return [s for s in COMPONENTS if s != "paper" or not values]


def _environment(spec: Doc) -> dict[str, str]:
    """Resolve a container's env as the kubelet would, with fake Secret values."""
    resolved = {}
    for name, entry in env_of(spec).items():
        if "value" in entry:
            resolved[name] = entry["value"]
        elif "secretKeyRef" in entry["valueFrom"]:
            resolved[name] = fake_secret(name)
        else:
            assert entry["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}
            resolved[name] = "sparky-executor-1"
    return resolved


@pytest.mark.parametrize("render", list(RENDERS))
def test_every_variable_the_chart_sets_is_a_setting_of_its_service(render: str) -> None:
    docs = render_chart(RENDERS[render])
    for service in _services(RENDERS[render]):
        names = set(env_of(container(docs, service)))
        assert not unknown_variables(service, names), service


@pytest.mark.parametrize("render", list(RENDERS))
def test_every_service_starts_with_the_chart_environment_in_production_mode(
    render: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = render_chart(RENDERS[render])
    for service in _services(RENDERS[render]):
        settings = load(monkeypatch, service, _environment(container(docs, service)))
        assert settings.environment == "prod"
        assert (settings.http_host, settings.http_port) == ("0.0.0.0", 8000)  # noqa: S104
        assert settings.namespace == "sparky"
        if program(service) in DATABASE_SERVICES:
            assert getattr(settings, "database_schema", None) == program(service)


def test_the_executors_trade_with_the_read_role_and_know_no_write_identity(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    docs = render_chart()
    env = _environment(container(docs, "executor"))
    assert not [name for name in env if "_VAULT_WRITE_" in name]
    values = load(monkeypatch, "executor", env).model_dump()
    assert values["role"] == "trading"
    assert values["vault_auth"] == "kubernetes"
    assert values["vault_kubernetes_role"] == "sparky-executor"
    assert values["vault_write_auth"] is None
    assert values["paper_exchange_url"] == "http://sparky-paper:8000"


def test_the_accounts_api_logs_in_with_the_write_role_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    docs = render_chart()
    env = _environment(container(docs, "accounts"))
    assert "SPARKY_EXECUTOR_VAULT_KUBERNETES_ROLE" not in env  # not the read role's name
    assert "SPARKY_EXECUTOR_REPLICA_COUNT" not in env  # owns no partition
    values = load(monkeypatch, "accounts", env).model_dump()
    assert values["role"] == "accounts"
    assert values["vault_write_auth"] == "kubernetes"
    assert values["vault_write_kubernetes_role"] == "sparky-executor-api"
    assert values["exchange_weight_share"] == 0.05
    assert values["paper_exchange_url"] == "http://sparky-paper:8000"


def test_vault_is_reached_over_tls_with_the_ca_the_values_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    docs = render_chart(sets={"vault.caConfigMap": "vault-ca"})
    for service in ("executor", "accounts"):
        spec = container(docs, service)
        settings = load(monkeypatch, service, _environment(spec))
        assert settings.model_dump()["vault_url"].startswith("https://")
        assert settings.model_dump()["vault_ca_cert"] == "/etc/sparky/vault-ca/ca.crt"
        mounts = {m["name"]: m["mountPath"] for m in spec["volumeMounts"]}
        assert mounts["vault-ca"] == "/etc/sparky/vault-ca"
        pod = workload(docs, service)["spec"]["template"]["spec"]
        (volume,) = [v for v in pod["volumes"] if v["name"] == "vault-ca"]
        assert volume["configMap"] == {"name": "vault-ca"}
        plain = container(render_chart(), service)
        assert "SPARKY_EXECUTOR_VAULT_CA_CERT" not in env_of(plain)


@pytest.mark.parametrize("render", list(RENDERS))
def test_secrets_come_only_from_secret_references(render: str) -> None:
    docs = render_chart(RENDERS[render])
    assert not [d for d in docs if d["kind"] == "Secret"]
    for doc in docs:
        if doc["kind"] not in ("Deployment", "StatefulSet", "Job"):
            continue
        for spec in doc["spec"]["template"]["spec"]["containers"]:
            for name, entry in env_of(spec).items():
                if SECRET_NAME.search(name):
                    assert "secretKeyRef" in entry.get("valueFrom", {}), (doc, name)


def test_order_signing_keys_reach_their_issuer_and_the_executor_only() -> None:
    docs = render_chart()
    router = {"name": "sparky-order-signing", "key": "router"}
    ledger = {"name": "sparky-order-signing", "key": "ledger"}
    holders = {}
    for name, pod in pod_specs(docs):
        for spec in pod["containers"] + pod.get("initContainers", []):
            refs = [
                e["valueFrom"]["secretKeyRef"]
                for e in spec.get("env", [])
                if "secretKeyRef" in e.get("valueFrom", {})
            ]
            holders[name] = [r for r in refs if r in (router, ledger)]
    assert {n: r for n, r in holders.items() if r} == {
        "sparky-router": [router],
        "sparky-ledger": [ledger],
        "sparky-executor": [router, ledger],
    }
    executor = env_of(container(docs, "executor"))
    assert (
        executor["SPARKY_EXECUTOR_ORDER_VERIFY_KEY_LEDGER"]["valueFrom"]["secretKeyRef"] == ledger
    )
    rotating = render_chart(
        sets={
            "orderSigning.ledgerVerifyKeySecret.name": "rotation",
            "orderSigning.ledgerVerifyKeySecret.key": "ledger-new-and-old",
        }
    )
    verify = env_of(container(rotating, "executor"))["SPARKY_EXECUTOR_ORDER_VERIFY_KEY_LEDGER"]
    assert verify["valueFrom"]["secretKeyRef"] == {"name": "rotation", "key": "ledger-new-and-old"}
    issuer = env_of(container(rotating, "ledger"))["SPARKY_ORDER_SIGNING_KEY"]
    assert issuer["valueFrom"]["secretKeyRef"] == ledger


def test_a_service_can_use_its_own_database_credentials() -> None:
    docs = render_chart(sets={"services.ledger.databaseUrlSecret.name": "ledger-db",
                              "services.ledger.databaseUrlSecret.key": "dsn",
                              "services.ledger.databaseMigrationUrlSecret.name": "ledger-owner",
                              "services.ledger.databaseMigrationUrlSecret.key": "dsn"})  # fmt: skip
    url = env_of(container(docs, "ledger"))["SPARKY_DATABASE_URL"]
    assert url["valueFrom"]["secretKeyRef"] == {"name": "ledger-db", "key": "dsn"}
    job = next(d for d in docs if d["metadata"]["name"] == "sparky-ledger-migrate")
    (migrate,) = job["spec"]["template"]["spec"]["containers"]
    owner = env_of(migrate)["SPARKY_MIGRATION_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
    assert owner == {"name": "ledger-owner", "key": "dsn"}
    assert "SPARKY_DATABASE_URL" not in env_of(migrate)  # the Job needs no runtime login
    router_url = env_of(container(docs, "router"))["SPARKY_DATABASE_URL"]
    assert router_url["valueFrom"]["secretKeyRef"] == {"name": "sparky-postgres", "key": "url"}


def test_billing_pods_carry_what_the_operator_cli_needs() -> None:
    env = env_of(container(render_chart(), "billing"))
    assert env["SPARKY_BILLING_URL"]["value"] == "http://127.0.0.1:8000"
    assert (
        env["SPARKY_OPERATOR_TOKEN"]["valueFrom"]
        == env["SPARKY_BILLING_OPERATOR_TOKEN"]["valueFrom"]
    )
    assert env["SPARKY_BILLING_PUBLIC_BASE_URL"]["value"] == "https://sparky.example.com"
