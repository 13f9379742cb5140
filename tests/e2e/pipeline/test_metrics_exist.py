"""Every metric a Grafana panel or an alert rule uses is served by a running service.

Every service runs as a real process (the package's stack: the way `make run` starts them, the
web app too); their /metrics are scraped and every name the dashboards and the PrometheusRule
reference must be among them, so no panel stays empty and no alert stays silent because of a
typo or a renamed metric.
"""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from scripts.devstack import SERVICES, Stack
from scripts.metric_names import EXTERNAL, referenced_metrics

pytestmark = pytest.mark.asyncio(loop_scope="module")

SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("", "_sum", "_count", "_created"),
    "info": ("_info",),
    "unknown": ("",),
}


def served_names(exposition: str) -> set[str]:
    """Return every sample name an exposition serves, or would once a labelled child exists."""
    names: set[str] = set()
    for family in text_string_to_metric_families(exposition):
        names.update(sample.name for sample in family.samples)
        names.update(family.name + suffix for suffix in SUFFIXES.get(family.type, ("",)))
    return names


async def test_every_dashboard_and_alert_metric_is_served(stack: Stack) -> None:
    referenced = referenced_metrics()
    assert len(referenced) > 10  # the dashboards and rules were found and parsed
    assert set(stack.processes) == set(SERVICES)  # every service of make run, web app too
    served: set[str] = set()
    async with httpx.AsyncClient(timeout=5) as client:
        for proc in stack.processes.values():
            resp = await client.get(f"{proc.url}/metrics")
            resp.raise_for_status()
            served |= served_names(resp.text)
    missing = {
        name: sorted(where)
        for name, where in referenced.items()
        if name not in served and name not in EXTERNAL
    }
    assert missing == {}
