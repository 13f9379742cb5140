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

from benchmarks.pipeline.outcomes import Sent, client_order_id
from benchmarks.pipeline.probes import INFRA, LedgerWatch, Usage

TRADINGVIEW_TIMEOUT_MS = 3000.0
MIB = 1024 * 1024
SHARED = frozenset(INFRA.values())


@dataclass
class PhaseFigures:
    """What one phase measured."""

    name: str
    sent: Sequence[Sent]
    to_orders_ms: list[float] = field(default_factory=list)
    to_exchange_ms: list[float] = field(default_factory=list)
    to_ledger_ms: list[float] = field(default_factory=list)
    last_exchange_ms: float = 0.0  # wall clock of the latest record; 0: none
    last_ledger_ms: float = 0.0
    stored: int = 0  # alerts ingress stored in INTENTS, answered or not
    settled: int = 0
    wall_s: float = 0.0
    max_lag_ms: float = 0.0
    usage: Mapping[str, Usage] = field(default_factory=dict)
    idle: Mapping[str, float] = field(default_factory=dict)  # share of a core with no load

    @property
    def accepted(self) -> list[Sent]:
        return [s for s in self.sent if s.final_status == 202]

    def measure(self, orders: Mapping[str, float], exchange: Mapping[str, int]) -> None:
        """Match each accepted alert to the router's order and the order at the exchange."""
        for alert in self.accepted:
            order_id = client_order_id(alert.intent_id)
            if (stored := orders.get(order_id)) is not None:
                self.to_orders_ms.append(stored - alert.due_ms)
            created = exchange.get(order_id)
            if created is not None:
                self.to_exchange_ms.append(created - alert.due_ms)
                self.last_exchange_ms = max(created, self.last_exchange_ms)

    def measure_ledger(self, ledger: Mapping[str, int], watch: LedgerWatch) -> None:
        """Match each accepted alert to the moment its fill was committed in the ledger."""
        for alert in self.accepted:
            seq = ledger.get(alert.intent_id)
            seen = watch.seen_at_ms(seq) if seq is not None else None
            if seen is not None:
                self.to_ledger_ms.append(seen - alert.due_ms)
                self.last_ledger_ms = max(seen, self.last_ledger_ms)


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
    print_usage(figures.usage, figures.wall_s, figures.idle, len(accepted))


def _after(at_ms: float, first_due_ms: float) -> str:
    return f"{(at_ms - first_due_ms) / 1e3:.2f} s" if at_ms else "none"


def print_usage(
    usage: Mapping[str, Usage], wall_s: float, idle: Mapping[str, float], alerts: int
) -> None:
    """Print CPU seconds, share of one core, CPU per alert above idle and peak RSS per group.

    ``idle`` is each group's share of a core with no load; "ms/alert" charges the rest to
    the phase's accepted alerts. Groups marked * are servers shared with other users.
    """
    print(
        f"  {'process':<15} {'CPU s':>7} {'% of a core':>12} {'ms/alert':>9} {'RSS peak':>10}"
        f"   over {wall_s:.1f} s"
    )
    for name, use in sorted(usage.items(), key=lambda kv: -kv[1].cpu_s):
        rss = f"{use.rss_peak / MIB:6.0f} MiB" if use.rss_peak else "-"
        share = use.cpu_s / wall_s * 100 if wall_s else float("nan")
        above = max(use.cpu_s - idle.get(name, 0.0) * wall_s, 0.0) / max(alerts, 1) * 1e3
        label = name + ("*" if name in SHARED else "")
        print(f"  {label:<15} {use.cpu_s:7.1f} {share:11.0f}% {above:9.2f} {rss:>10}")
