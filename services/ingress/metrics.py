"""Prometheus metrics of the webhook: what traders got back, how fast, and what degraded.

Labels are closed vocabularies (the outcome), never a tenant id.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

OUTCOMES = (
    "accepted",
    "duplicate",
    "invalid",
    "unauthorized",
    "forbidden",
    "too_large",
    "rate_limited",
    "unavailable",
    "webhook_busy",
)
# The budget is 10 ms at p99; TradingView gives up after 3 s.
_BUCKETS = (0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)

REQUESTS = Counter("sparky_ingress_requests", "Webhook requests answered, by outcome.", ["outcome"])
REQUEST_SECONDS = Histogram(
    "sparky_ingress_request_duration_seconds",
    "Time from the request's arrival to its answer, by outcome.",
    ["outcome"],
    buckets=_BUCKETS,
)
PUBLISH_SECONDS = Histogram(
    "sparky_ingress_publish_duration_seconds",
    "Time to store an intent in JetStream (publish until PubAck).",
    buckets=_BUCKETS,
)
IN_FLIGHT = Gauge(
    "sparky_ingress_requests_in_flight",
    "Webhook requests being handled (counted once their body has arrived).",
)
RATE_LIMIT_BYPASSED = Counter(
    "sparky_ingress_rate_limit_bypassed",
    "Alerts let through without a rate-limit check because Redis failed (fail-open).",
)
ACCEPTED_EVENT_FAILURES = Counter(
    "sparky_ingress_accepted_event_failures",
    "IntentAccepted events that could not be published after the intent was stored.",
)
REFUSALS_REPORTED = Counter(
    "sparky_ingress_refusals_reported",
    "AlertRefused events published (each may fold several refusals of one webhook).",
)
REFUSALS_DROPPED = Counter(
    "sparky_ingress_refusals_dropped",
    "Refusals of known webhooks not reported to the feed (queue full, NATS refused).",
)

# Every series exported from the start, so that rate() sees the first one; looked up once
# here rather than through labels() on every request.
_ANSWERED = {outcome: REQUESTS.labels(outcome) for outcome in OUTCOMES}
_ANSWER_SECONDS = {outcome: REQUEST_SECONDS.labels(outcome) for outcome in OUTCOMES}


def count_answer(outcome: str, seconds: float) -> None:
    """Count one answer with ``outcome`` and how long it took."""
    counter = _ANSWERED.get(outcome) or REQUESTS.labels(outcome)
    histogram = _ANSWER_SECONDS.get(outcome) or REQUEST_SECONDS.labels(outcome)
    counter.inc()
    histogram.observe(seconds)
