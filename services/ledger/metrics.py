"""The ledger's Prometheus metrics (no tenant id in any label: unbounded cardinality)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS_APPLIED = Counter(
    "sparky_ledger_events_applied_total", "Events applied to the projections, by kind.", ["kind"]
)
DUPLICATES = Counter(
    "sparky_ledger_duplicate_events_total", "Events skipped because they were applied before."
)
POISON = Counter(
    "sparky_ledger_poison_events_total", "Messages set aside because they could not be applied."
)
BATCH_SIZE = Histogram(
    "sparky_ledger_batch_size",
    "Messages per applied batch.",
    buckets=(1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000),
)
BATCH_SECONDS = Histogram(
    "sparky_ledger_batch_seconds",
    "Time to apply one batch, from fetch to ack.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
LAG = Gauge(
    "sparky_ledger_lag_seconds",
    "Now minus the occurrence time of the last applied event; 0 when caught up.",
)
PENDING = Gauge(
    "sparky_ledger_consumer_pending", "Events in the stream the ledger has not fetched yet."
)
