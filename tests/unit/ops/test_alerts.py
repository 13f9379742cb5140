"""Alert rules: valid for Prometheus, unit-tested with promtool, each with its runbook section."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.unit.ops.chart import PRODUCTION, REPO, find, render, tool

RULES = REPO / "deploy" / "prometheus" / "sparky-alerts.rules.yaml"
RULE_TESTS = REPO / "deploy" / "prometheus" / "sparky-alerts.test.yaml"
RUNBOOK = REPO / "docs" / "runbook.md"
# What the operator acts on (issue: Operations): every one must exist.
REQUIRED = {
    "SparkyIngressErrorRatioHigh",
    "SparkyWebhookAckSlow",
    "SparkyConsumerLagHigh",
    "SparkyOrderFailureRatioHigh",
    "SparkyLedgerLagHigh",
    "SparkyVaultErrors",
    "SparkyPodRestarting",
}


def _alerts(values: tuple[Path, ...] = ()) -> list[dict[str, Any]]:
    (rule,) = find(render(values), "PrometheusRule")
    return [r for group in rule["spec"]["groups"] for r in group["rules"]]


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(tool("promtool")), *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_rendered_rules_pass_promtool_check(tmp_path: Path) -> None:
    for values in ((), (PRODUCTION,)):
        (rule,) = find(render(values), "PrometheusRule")
        rules = tmp_path / "rules.yaml"
        rules.write_text(yaml.safe_dump(rule["spec"]))
        result = _promtool("check", "rules", str(rules))
        assert result.returncode == 0, result.stdout + result.stderr


def test_alert_unit_tests_pass() -> None:
    result = _promtool("test", "rules", str(RULE_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr


def test_unit_tests_cover_ingress_errors_and_consumer_lag() -> None:
    tests = yaml.safe_load(RULE_TESTS.read_text())["tests"]
    tested = {c["alertname"] for t in tests for c in t.get("alert_rule_test", [])}
    assert {"SparkyIngressErrorRatioHigh", "SparkyConsumerLagHigh"} <= tested


def test_a_broken_threshold_fails_the_unit_tests(tmp_path: Path) -> None:
    rules = RULES.read_text().replace("> 1000", "> 100000")
    (tmp_path / RULES.name).write_text(rules)
    (tmp_path / RULE_TESTS.name).write_text(RULE_TESTS.read_text())
    assert _promtool("test", "rules", str(tmp_path / RULE_TESTS.name)).returncode != 0


def test_every_alert_the_operator_needs_exists() -> None:
    alerts = {a["alert"] for a in _alerts()}
    assert alerts >= REQUIRED


def _runbook_sections() -> dict[str, str]:
    text = RUNBOOK.read_text()
    parts = re.split(r"^## (\S+)\s*$", text, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_every_alert_links_to_its_own_runbook_section() -> None:
    sections = _runbook_sections()
    for alert in _alerts():
        name = alert["alert"]
        assert alert["annotations"]["runbook_url"] == f"docs/runbook.md#{name.lower()}"
        assert name in sections, f"docs/runbook.md has no section '## {name}'"
        for part in ("**Means.**", "**Check.**", "**Do.**"):
            assert part in sections[name], f"{name}: runbook section lacks {part}"
        assert alert["labels"]["severity"] in ("warning", "critical")
        assert alert["annotations"]["summary"]
        assert alert["annotations"]["description"]


def test_every_runbook_section_belongs_to_an_alert() -> None:
    assert set(_runbook_sections()) == {a["alert"] for a in _alerts()}


def test_runbook_address_and_thresholds_come_from_values() -> None:
    alerts = {a["alert"]: a for a in _alerts((PRODUCTION,))}
    lag = alerts["SparkyConsumerLagHigh"]
    assert lag["annotations"]["runbook_url"] == (
        "https://docs.sparky.example.com/runbook#sparkyconsumerlaghigh"
    )
    assert "> 500" in lag["expr"]
    assert "> 0.1" in alerts["SparkyWebhookAckSlow"]["expr"]


@pytest.mark.parametrize("alert", sorted(REQUIRED - {"SparkyPodRestarting"}))
def test_every_sparky_alert_is_scoped_to_its_release_namespace(alert: str) -> None:
    expr = {a["alert"]: a["expr"] for a in _alerts()}[alert]
    selectors = re.findall(r"sparky_[a-z0-9_]+\{([^}]*)\}", expr)
    assert selectors
    assert all('namespace="sparky"' in s for s in selectors)


def test_label_values_the_alerts_select_are_values_the_services_export() -> None:
    from libs.common.consumer import Outcome  # noqa: PLC0415
    from libs.common.fsm import OrderState  # noqa: PLC0415
    from services.ingress.metrics import OUTCOMES  # noqa: PLC0415

    exprs = " ".join(a["expr"] for a in _alerts())
    assert 'outcome="unavailable"' in exprs
    assert "unavailable" in OUTCOMES  # ingress's 503: the alert was not stored
    assert 'outcome=~"failed|uncertain"' in exprs
    assert {"failed", "uncertain"} <= {state.value for state in OrderState}
    assert 'outcome=~"poison|max_deliveries"' in exprs
    assert {"poison", "max_deliveries"} <= {outcome.value for outcome in Outcome}
