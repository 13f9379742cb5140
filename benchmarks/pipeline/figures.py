"""Turn one phase's records into the figures the bench prints.

Latencies, all from an alert's due time on the load generator's schedule (the moment
TradingView would have sent it; the generator's lag behind it is printed):

- *answer*: the webhook's first HTTP answer arrived;
- *→ ORDERS*: JetStream stored the router's ``PlaceOrder`` (the stream's own timestamp);
- *→ exchange*: the paper exchange created the order (its own ``created_ms``);
- *→ ledger*: the ledger's projector had committed the fill (polled every 10 ms, so this
  figure is late by up to one poll).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from benchmarks.pipeline.cpu import BENCH_BACKENDS, INFRA
from benchmarks.pipeline.outcomes import Sent, client_order_id
from benchmarks.pipeline.probes import LedgerWatch, Usage

TRADINGVIEW_TIMEOUT_MS = 3000.0
MIB = 1024 * 1024
SHARED = frozenset(INFRA.values())
# The bench's own work, shown but not in the pipeline's total: the load generator plays
# TradingView, the bench and its Postgres connections measure.
NOT_PIPELINE = frozenset({"bench", "load generator", BENCH_BACKENDS})


@dataclass
class PhaseFigures:
    """What one phase measured; the ``*_at`` maps hold each alert's moments by intent id."""

    name: str
    sent: Sequence[Sent]
    orders_at: dict[str, float] = field(default_factory=dict)  # ms epoch
    exchange_at: dict[str, float] = field(default_factory=dict)
    ledger_at: dict[str, float] = field(default_factory=dict)
    exchange_counts: Mapping[str, int] = field(default_factory=dict)  # by client order id
    ledger_counts: Mapping[str, int] = field(default_factory=dict)  # exchange orders, by intent
    refused: Mapping[str, str] = field(default_factory=dict)  # intent -> why: no order expected
    stored: int = 0  # alerts ingress stored in INTENTS, answered or not
    settled: int = 0
    wall_s: float = 0.0
    max_lag_ms: float = 0.0
    usage: Mapping[str, Usage] = field(default_factory=dict)
    idle: Mapping[str, float] = field(default_factory=dict)  # share of a core with no load
    hot: int | None = None  # a tenant whose latency is printed apart

    @property
    def accepted(self) -> list[Sent]:
        return [s for s in self.sent if s.final_status == 202]

    @property
    def to_orders_ms(self) -> list[float]:
        return latencies(self.accepted, self.orders_at)

    @property
    def to_exchange_ms(self) -> list[float]:
        return latencies(self.accepted, self.exchange_at)

    @property
    def to_ledger_ms(self) -> list[float]:
        return latencies(self.accepted, self.ledger_at)

    @property
    def last_exchange_ms(self) -> float:
        return max(self.exchange_at.values(), default=0.0)

    @property
    def last_ledger_ms(self) -> float:
        return max(self.ledger_at.values(), default=0.0)

    def measure(
        self,
        orders: Mapping[str, float],
        exchange: Mapping[str, int],
        counts: Mapping[str, int] | None = None,
    ) -> None:
        """Match each accepted alert to the router's order and the order at the exchange."""
        self.exchange_counts = counts or {}
        for alert in self.accepted:
            order_id = client_order_id(alert.intent_id)
            if (stored := orders.get(order_id)) is not None:
                self.orders_at[alert.intent_id] = stored
            if (created := exchange.get(order_id)) is not None:
                self.exchange_at[alert.intent_id] = float(created)

    def measure_ledger(self, ledger: Mapping[str, int], watch: LedgerWatch) -> None:
        """Match each accepted alert to the moment its fill was committed in the ledger."""
        for alert in self.accepted:
            seq = ledger.get(alert.intent_id)
            seen = watch.seen_at_ms(seq) if seq is not None else None
            if seen is not None:
                self.ledger_at[alert.intent_id] = seen


def latencies(alerts: Sequence[Sent], at: Mapping[str, float]) -> list[float]:
    """Each alert's time from its due time to its moment in ``at``, for those that have one."""
    return [at[a.intent_id] - a.due_ms for a in alerts if a.intent_id in at]


def cpu_per_alert(
    usage: Mapping[str, Usage], idle: Mapping[str, float], wall_s: float, alerts: int
) -> dict[str, float]:
    """Each group's ms of CPU per alert above its idle share, and ``"total"`` of the pipeline's
    (every group but ``NOT_PIPELINE``).
    """
    per = {
        name: max(use.cpu_s - idle.get(name, 0.0) * wall_s, 0.0) / max(alerts, 1) * 1e3
        for name, use in usage.items()
    }
    per["total"] = sum(v for k, v in per.items() if k not in NOT_PIPELINE)
    return per


def quantile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def _spread(label: str, values: Sequence[float], of: int) -> str:
    if not values:
        return f"  {label:<26} none of {of}"
    return (
        f"  {label:<26} p50 {quantile(values, 0.5):8.1f} ms  p99 {quantile(values, 0.99):8.1f} ms"
        f"  max {max(values):8.1f} ms  ({len(values)} of {of})"
    )


def _answers(sent: Sequence[Sent]) -> str:
    first = Counter(s.first_status for s in sent)
    final = Counter(s.final_status for s in sent)
    late = sum(1 for s in sent if s.answer_ms is None or s.answer_ms > TRADINGVIEW_TIMEOUT_MS)
    names = {0: "conn error", -1: "no answer"}
    first_text = ", ".join(f"{names.get(k, k)}: {v}" for k, v in sorted(first.items()))
    final_text = ", ".join(f"{names.get(k, k)}: {v}" for k, v in sorted(final.items()))
    return f"  answers: first {first_text}; after resends {final_text}; later than 3 s: {late}"


def print_phase(figures: PhaseFigures) -> None:
    """Print a phase's answers, latencies, completion and resource use."""
    sent, accepted = figures.sent, figures.accepted
    first_due = min(s.due_ms for s in sent)
    answered = [s.due_ms + s.answer_ms for s in sent if s.first_status == 202 and s.answer_ms]
    window_s = (max(answered, default=first_due) - first_due) / 1e3
    rate = sum(1 for s in sent if s.first_status == 202) / window_s if window_s else 0.0
    print(
        f"{figures.name}: sent {len(sent)}, accepted {len(accepted)} "
        f"({rate:,.1f}/s: first-time 202s, first due time to last 202), "
        f"generator lag max {figures.max_lag_ms:.1f} ms"
    )
    print(_answers(sent))
    answers = [s.answer_ms for s in sent if s.answer_ms is not None]
    print(_spread("webhook answer", answers, len(sent)))
    print(_spread("webhook -> ORDERS (router)", figures.to_orders_ms, len(accepted)))
    print(_spread("webhook -> paper exchange", figures.to_exchange_ms, len(accepted)))
    print(_spread("webhook -> ledger", figures.to_ledger_ms, len(accepted)))
    print(
        f"  stored by ingress {figures.stored} ({len(accepted)} answered 202), settled in the "
        f"ledger {figures.settled}; from the first alert: "
        f"last order at the exchange {_after(figures.last_exchange_ms, first_due)}, "
        f"last in the ledger {_after(figures.last_ledger_ms, first_due)}"
    )
    if figures.hot is not None:
        print_tenant(figures, figures.hot, "hot tenant")
    print_usage(figures.usage, figures.wall_s, figures.idle, len(accepted))


def print_tenant(figures: PhaseFigures, tenant: int, label: str) -> None:
    """Print one tenant's share of the phase and its latencies apart from the others'."""
    sent = [s for s in figures.sent if s.tenant == tenant]
    accepted = [s for s in sent if s.final_status == 202]
    answers = [s.answer_ms for s in sent if s.answer_ms is not None]
    print(f"  {label} (tenant {tenant}): {len(sent)} of {len(figures.sent)} alerts")
    print(_spread(f"{label}: answer", answers, len(sent)))
    print(_spread(f"{label}: -> exchange", latencies(accepted, figures.exchange_at), len(accepted)))
    print(_spread(f"{label}: -> ledger", latencies(accepted, figures.ledger_at), len(accepted)))


def _after(at_ms: float, first_due_ms: float) -> str:
    return f"{(at_ms - first_due_ms) / 1e3:.2f} s" if at_ms else "none"


def print_usage(
    usage: Mapping[str, Usage], wall_s: float, idle: Mapping[str, float], alerts: int
) -> None:
    """Print CPU seconds, share of one core, CPU per alert above idle and peak RSS per group.

    ``idle`` is each group's share of a core with no load; "ms/alert" charges the rest to
    the phase's accepted alerts. Groups marked * are servers shared with other users; those
    in parentheses are the bench's own, not in the total.
    """
    print(
        f"  {'process':<24} {'CPU s':>7} {'% of a core':>12} {'ms/alert':>9} {'RSS peak':>10}"
        f"   over {wall_s:.1f} s"
    )
    per = cpu_per_alert(usage, idle, wall_s, alerts)
    for name, use in sorted(usage.items(), key=lambda kv: (kv[0] in NOT_PIPELINE, -kv[1].cpu_s)):
        rss = f"{use.rss_peak / MIB:6.0f} MiB" if use.rss_peak else "-"
        share = use.cpu_s / wall_s * 100 if wall_s else float("nan")
        label = name + ("*" if name in SHARED else "")
        label = f"({label})" if name in NOT_PIPELINE else label
        print(f"  {label:<24} {use.cpu_s:7.1f} {share:11.0f}% {per[name]:9.2f} {rss:>10}")
    print(f"  {'total, the pipeline':<24} {'':7} {'':12} {per['total']:9.2f}")
