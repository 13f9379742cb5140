"""The notifier's Prometheus metrics (labels: the channel kind, never a tenant or a target)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

SENT = Counter("sparky_notifier_sent_total", "Messages sent, by channel kind.", ["channel"])
FAILED = Counter(
    "sparky_notifier_failed_total",
    "Sends that failed, by channel kind and reason (http_429, http_5xx, timeout, dead…).",
    ["channel", "reason"],
)
COALESCED = Counter(
    "sparky_notifier_coalesced_total",
    "Events folded into a message with others, by channel kind.",
    ["channel"],
)
PENDING = Gauge("sparky_notifier_pending", "Deliveries waiting to be sent.")
OLDEST_PENDING = Gauge(
    "sparky_notifier_oldest_pending_seconds", "Age of the oldest waiting delivery (stuck queue)."
)
DEAD_CHANNELS = Counter(
    "sparky_notifier_dead_channels_total", "Channels marked dead, by channel kind.", ["channel"]
)
DELIVERIES = Counter(
    "sparky_notifier_deliveries_total",
    "Delivery rows written by the EVENTS consumer, by state (pending, dropped).",
    ["state"],
)
