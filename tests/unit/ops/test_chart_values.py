"""A wrong value fails at install time with a message naming it, before reaching the cluster."""

from __future__ import annotations

import pytest

from tests.unit.ops.chart import PRODUCTION, helm, render_error, template_args


@pytest.mark.parametrize(
    ("sets", "message"),
    [
        ({"services.router.replicas": "two"}, "services.router.replicas"),
        ({"services.routr.replicas": "2"}, "routr"),
        ({"config.environment": "production"}, "config.environment"),
        ({"config.partitions": "0"}, "config.partitions"),
        ({"services.billing.operatorTokenSecret.key": "null"}, "key is required"),
        ({"nats.urlSecret.name": "only-a-name"}, "nats.urlSecret"),
        ({"nats.url": "http://nats:4222"}, "nats.url"),
        ({"services.paper.replicas": "2"}, "services.paper.replicas"),
        ({"services.router.env.LOG_LEVEL": "DEBUG"}, "services.router.env"),
        ({"services.ingress.resources.limits.cpu": "lots"}, "cpu"),
        ({"monitoring.prometheusRule.thresholds.webhookAckP99Seconds": "5"}, "webhookAckP99"),
        ({"networkPolicy.internet.cidr": "everywhere"}, "networkPolicy.internet.cidr"),
        ({"ingress.host": "Not A Host"}, "ingress.host"),
        ({"vault.url": "http://vault:8200"}, "vault.url must be https://"),
        ({"vault.caConfigMap": "Not A Name"}, "vault.caConfigMap"),
    ],
)
def test_a_wrong_value_fails_the_install_naming_the_value(
    sets: dict[str, str], message: str
) -> None:
    assert message in render_error(sets)


def test_more_partition_owners_than_partitions_is_refused() -> None:
    error = render_error({"services.executor.replicas": "17"})
    assert "services.executor.replicas (17) must not exceed config.partitions (16)" in error


def test_default_and_production_values_pass_helm_lint() -> None:
    helm("lint", "--strict", str(PRODUCTION.parent))
    helm("lint", "--strict", str(PRODUCTION.parent), "-f", str(PRODUCTION))


def test_production_example_renders() -> None:
    assert "kind: StatefulSet" in helm(*template_args([PRODUCTION])).stdout
