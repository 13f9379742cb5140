"""The NATS permissions table: what it grants follows the contracts, and the Helm chart's copy
of the rendered server configuration is current.
"""

from __future__ import annotations

from pathlib import Path

from libs.common.nats_access import (
    CHART_NAMESPACE,
    SERVICES,
    USERS,
    authorization,
    permissions,
    server_config,
)
from libs.common.topology import Topology

ROOT = Path(__file__).resolve().parents[2]
CHART_COPY = ROOT / "helm/sparky/files/nats-authorization.conf"
COMPOSE_COPY = ROOT / "deploy/compose/nats-authorization.conf"
T = Topology(namespace="prod", partitions=4)


def publishers_of(subject: str) -> set[str]:
    return {s for s in SERVICES if subject in permissions(s, T)["publish"]["allow"]}


def test_the_chart_carries_the_configuration_the_table_renders() -> None:
    assert CHART_COPY.read_text() == server_config(Topology(namespace=CHART_NAMESPACE)), (
        "run: python -m libs.common.nats_access --namespace nsplaceholder "
        "> helm/sparky/files/nats-authorization.conf"
    )


def test_docker_compose_carries_the_configuration_of_its_namespace() -> None:
    assert COMPOSE_COPY.read_text() == server_config(Topology(namespace="sparky")), (
        "run: python -m libs.common.nats_access --namespace sparky "
        "> deploy/compose/nats-authorization.conf"
    )


def test_only_ingress_publishes_intents_and_only_billing_writes_credentials() -> None:
    assert publishers_of("prod.intents.>") == {"ingress"}
    assert publishers_of("prod.events.*.alert.refused") == {"ingress"}
    assert publishers_of("prod.orders.>") == {"router", "ledger"}
    for bucket in (T.tenants_bucket, T.api_keys_bucket, T.webhook_tokens_bucket):
        assert publishers_of(f"$KV.{bucket}.>") == {"billing"}
    assert publishers_of(f"$KV.{T.accounts_bucket}.>") == {"executor", "accounts"}
    assert publishers_of("prod.events.*.order.>") == {"executor"}


def test_kill_switch_and_billing_notices_have_one_publisher_each() -> None:
    assert publishers_of("prod.events.*.settings.kill_switch") == {"router"}
    assert publishers_of("prod.events.*.billing.>") == {"billing"}


def test_the_notifier_publishes_no_message_and_touches_only_its_own_consumer() -> None:
    allowed = permissions("notifier", T)["publish"]["allow"]
    assert not [a for a in allowed if a.startswith(("prod.events", "prod.intents", "prod.orders"))]
    assert not [a for a in allowed if a.startswith("$KV.")]
    consumer_calls = [a for a in allowed if a.startswith("$JS.API.CONSUMER.") and "EVENTS" in a]
    assert consumer_calls
    assert all(".prod_EVENTS.notifier" in a for a in consumer_calls)
    acks = [a for a in allowed if a.startswith("$JS.ACK.prod_EVENTS")]
    assert acks == ["$JS.ACK.prod_EVENTS.notifier.>"]


def test_no_service_may_change_or_remove_the_topology() -> None:
    for service in SERVICES:
        allowed = permissions(service, T)["publish"]["allow"]
        assert not [a for a in allowed if ".DELETE." in a and "CONSUMER" not in a]
        assert not [a for a in allowed if ".UPDATE." in a or ".PURGE." in a or a == ">"]


def test_each_service_hears_only_its_own_replies() -> None:
    for service in SERVICES:
        assert permissions(service, T)["subscribe"]["allow"] == [f"_INBOX_{service}.>"]


def test_passwords_stay_variables_unless_given() -> None:
    text = server_config(T)
    assert "$SPARKY_NATS_PASSWORD_INGRESS," in text
    users = authorization(T, {u: f"pw-{u}" for u in USERS})["users"]
    assert isinstance(users, list)
    assert {u["password"] for u in users} == {f"pw-{u}" for u in USERS}
