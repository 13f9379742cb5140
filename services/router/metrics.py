"""The router's Prometheus metrics (consumer lag comes from libs.common.consumer's gauge)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

DECISIONS = Counter(
    "sparky_router_decisions_total",
    "Intents decided: outcome placed, rejected (by reason code), republished (a kept "
    "decision published again on a redelivery), failed, or refused (tenant_mismatch: an "
    "intent claiming another tenant than its subject's, dead-lettered undecided)",
    ["outcome", "reason"],
)
DECISION_SECONDS = Histogram(
    "sparky_router_decision_seconds",
    "Time to decide one intent and publish its output",
    buckets=(0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0),
)
INTENT_AGE = Histogram(
    "sparky_router_intent_age_seconds",
    "From ingress receiving the alert to the router publishing its decision",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 120.0),
)
SETTINGS_LOADS = Counter(
    "sparky_router_settings_loads_total", "Trade settings loaded from Postgres (cache misses)"
)
POSITION_EVENTS = Counter(
    "sparky_router_position_events_total",
    "order.filled events applied to the known positions, or skipped as seen before",
    ["outcome"],
)
KILL_SWITCH_NOTICES = Counter(
    "sparky_router_kill_switch_notices_total",
    "settings.kill_switch events published, or left owed for the announcer (NATS unavailable)",
    ["outcome"],
)
