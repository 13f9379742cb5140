"""Prometheus metrics of the paper exchange (no account ids as labels)."""

from __future__ import annotations

from prometheus_client import Counter

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
