"""Billing's Prometheus metrics; never a tenant id as a label (usage tables hold that)."""

from __future__ import annotations

from prometheus_client import Counter

KV_PUBLISH_FAILURES = Counter(
    "sparky_billing_kv_publish_failures_total",
    "Changes saved in Postgres that could not be written to a KV bucket at once.",
)
RECONCILE_REPAIRS = Counter(
    "sparky_billing_reconcile_repairs_total",
    "Keys reconciliation wrote or deleted because a bucket disagreed with Postgres.",
    ["bucket", "action"],
)
STRIPE_EVENTS = Counter(
    "sparky_billing_stripe_events_total",
    "Stripe webhook deliveries, by event type and what billing did with them.",
    ["type", "outcome"],
)
USAGE_EVENTS = Counter(
    "sparky_billing_usage_events_total",
    "Events the usage consumer handled, by outcome.",
    ["outcome"],
)
AUDIT_FAILURES = Counter(
    "sparky_billing_audit_failures_total",
    "Operator actions done but not recorded in the audit log (Postgres refused the entry).",
)
