"""Prometheus metrics of the paper exchange (no account ids as labels)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

ORDERS = Counter(
    "sparky_paper_orders_total",
    "Orders the paper exchange answered, by type and outcome (an order status or error code).",
    ["type", "outcome"],
)
FILLS = Counter(
    "sparky_paper_fills_total",
    "Fills the paper exchange made, by liquidity (maker or taker).",
    ["liquidity"],
)
FAULTS = Counter(
    "sparky_paper_faults_total",
    "Injected faults that hit a request, by kind.",
    ["kind"],
)
WEIGHT_REFUSALS = Counter(
    "sparky_paper_weight_refusals_total",
    "Requests refused over the request-weight limit, by status (429 limited, 418 banned).",
    ["status"],
)
PRICE_SOURCE_STALE = Gauge(
    "sparky_paper_price_source_stale",
    "1 while the last refresh from the price source failed (prices held at their last value).",
)
PRICE_SOURCE_UPDATED = Gauge(
    "sparky_paper_price_source_updated_timestamp_seconds",
    "When prices were last read from the price source (Unix time).",
)
PRICE_SOURCE_ERRORS = Counter(
    "sparky_paper_price_source_errors_total",
    "Failed refreshes from the price source, by error class.",
    ["error"],
)
PRICE_SOURCE_FALLBACK = Gauge(
    "sparky_paper_price_source_fallback_markets",
    "Markets the price source does not list, which follow the synthetic walk instead.",
)
