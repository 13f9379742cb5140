"""Settings: per-service prefix over the shared one, and no development secrets in production."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError
from pydantic_settings import SettingsConfigDict

from libs.common.config import Environment, ServiceSettings, load_settings
from libs.common.errors import ConfigurationError
from libs.common.records import account_key
from libs.common.topology import Topology


class DemoSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SPARKY_DEMO_", extra="ignore", frozen=True)

    operator_token: SecretStr = SecretStr("dev-operator-token")


def test_service_prefix_wins_over_the_shared_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPARKY_NATS_URL", "nats://shared:4222")
    monkeypatch.setenv("SPARKY_NAMESPACE", "prod1")
    monkeypatch.setenv("SPARKY_DEMO_NATS_URL", "nats://demo-only:4222")
    settings = load_settings(DemoSettings)
    assert settings.nats_url == "nats://demo-only:4222"
    assert settings.namespace == "prod1"


def test_explicit_overrides_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPARKY_DEMO_PARTITIONS", "8")
    assert load_settings(DemoSettings, partitions=4).partitions == 4


def test_production_refuses_a_development_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPARKY_ENVIRONMENT", "prod")
    with pytest.raises(ConfigurationError, match="operator_token"):
        load_settings(DemoSettings)
    monkeypatch.setenv("SPARKY_DEMO_OPERATOR_TOKEN", "a-real-secret")
    settings = load_settings(DemoSettings)
    assert settings.environment is Environment.PROD
    assert "a-real-secret" not in repr(settings)


@pytest.mark.parametrize("bad", ["Sparky", "1abc", "a.b", "a b", "x" * 33, ""])
def test_a_namespace_unusable_in_nats_names_is_refused(bad: str) -> None:
    with pytest.raises(ValidationError):
        load_settings(DemoSettings, namespace=bad)
    with pytest.raises(ValueError, match="namespace"):
        Topology(namespace=bad)


def test_topology_names_carry_the_namespace() -> None:
    topo = Topology.from_settings(load_settings(DemoSettings, namespace="acme", partitions=4))
    p = topo.partition_of("tenant-a")
    assert topo.intent_subject("tenant-a") == f"acme.intents.{p}.tenant-a"
    assert topo.order_subject("tenant-a") == f"acme.orders.{p}.tenant-a"
    assert topo.event_subject("tenant-a", "order.filled") == "acme.events.tenant-a.order.filled"
    assert [s.name for s in topo.streams()] == [
        "acme_INTENTS",
        "acme_ORDERS",
        "acme_EVENTS",
        "acme_DEADLETTER",
    ]
    assert topo.buckets() == (
        "acme_tenants",
        "acme_webhook-tokens",
        "acme_api-keys",
        "acme_accounts",
    )
    assert topo.consumer_name("router", 3) == "router-p3"
    assert topo.intents_filter(3) == "acme.intents.3.*"


def test_account_keys_are_valid_kv_keys_whatever_the_label() -> None:
    key = account_key("tenant-a", "Main account #1 / ÜSDT")
    assert key.startswith("tenant-a.")
    assert all(c.isalnum() or c in "-_.=" for c in key)
    assert account_key("tenant-a", "x") != account_key("tenant-b", "x")


def test_a_nats_user_and_credentials_in_the_url_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="credentials"):
        ServiceSettings(nats_url="nats://shared:pw@nats:4222", nats_user="router")
    assert ServiceSettings(nats_url="tls://nats:4222", nats_user="router").nats_user == "router"
