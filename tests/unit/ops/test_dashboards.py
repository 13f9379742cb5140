"""Grafana dashboards: shipped as ConfigMaps, well formed, and using only metrics that exist."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from scripts.metric_names import promql_metrics, referenced_metrics, undefined_metrics
from tests.unit.ops.chart import CHART, PRODUCTION, REPO, SERVICES, find, render

DASHBOARDS = CHART / "dashboards"


def _boards() -> dict[str, dict[str, Any]]:
    return {p.stem: json.loads(p.read_text()) for p in sorted(DASHBOARDS.glob("*.json"))}


def _panels(board: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in board["panels"] if p["type"] != "row"]


def test_an_overview_and_one_dashboard_per_service_ship_as_sidecar_configmaps() -> None:
    assert set(_boards()) == {"overview", *SERVICES}
    maps = {m["metadata"]["name"]: m for m in find(render(), "ConfigMap")}
    for name, board in _boards().items():
        config_map = maps[f"sparky-dashboard-{name}"]
        assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
        assert json.loads(config_map["data"][f"sparky-{name}.json"]) == board
    production = {m["metadata"]["name"] for m in find(render([PRODUCTION]), "ConfigMap")}
    assert "sparky-dashboard-paper" in production  # paper accounts in production too


def test_the_overview_shows_alerts_in_orders_out_rejections_latency_and_lag() -> None:
    titles = " | ".join(p["title"].lower() for p in _panels(_boards()["overview"]))
    for topic in ("alerts in", "orders out", "rejections by reason", "end-to-end latency", "lag"):
        assert topic in titles, topic


def test_every_panel_queries_the_chosen_prometheus_and_fits_the_grid() -> None:
    uids = [board["uid"] for board in _boards().values()]
    assert len(uids) == len(set(uids))
    for name, board in _boards().items():
        assert board["title"].startswith("Sparky / ")
        ids = [p["id"] for p in board["panels"]]
        assert len(ids) == len(set(ids)), name
        for panel in _panels(board):
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
            assert panel["targets"], (name, panel["title"])
            assert all(t["expr"] for t in panel["targets"])
            grid = panel["gridPos"]
            assert grid["x"] + grid["w"] <= 24, (name, panel["title"])


def test_every_metric_a_dashboard_or_alert_uses_is_defined() -> None:
    assert undefined_metrics() == {}


def test_dashboards_and_alerts_use_the_metrics_of_every_step() -> None:
    used = set(referenced_metrics())
    for metric in (
        "sparky_ingress_requests_total",
        "sparky_router_decisions_total",
        "sparky_executor_orders_total",
        "sparky_executor_webhook_to_exchange_seconds_bucket",
        "sparky_consumer_pending_messages",
        "sparky_ledger_lag_seconds",
    ):
        assert metric in used, metric


def test_a_misspelt_metric_in_a_dashboard_is_reported(tmp_path: Path) -> None:
    for part in ("services", "libs", "deploy"):
        (tmp_path / part).symlink_to(REPO / part)
    boards = tmp_path / "helm" / "sparky" / "dashboards"
    shutil.copytree(DASHBOARDS, boards)
    overview = json.loads((boards / "overview.json").read_text())
    target = _panels(overview)[0]["targets"][0]
    target["expr"] = 'sum(rate(sparky_ingress_requests{namespace="$namespace"}[5m]))'
    (boards / "overview.json").write_text(json.dumps(overview))
    missing = undefined_metrics(tmp_path)
    assert set(missing) == {"sparky_ingress_requests"}  # a counter is exposed as ..._total
    assert any("overview.json" in where for where in missing["sparky_ingress_requests"])


def test_metric_names_are_read_out_of_promql() -> None:
    expr = (
        'histogram_quantile(0.99, sum by (le, outcome) (rate(sparky_a_seconds_bucket{ns="x",'
        'outcome=~"b|c"}[$__rate_interval]))) / on (job) group_left sum(up{job="sparky_x"})'
        ' or label_replace(max(sparky_b) > 0, "service", "ledger", "", "")'
        " unless sparky_c offset 5m"
    )
    assert promql_metrics(expr) == {"sparky_a_seconds_bucket", "up", "sparky_b", "sparky_c"}
