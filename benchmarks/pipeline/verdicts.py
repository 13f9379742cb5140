"""What the issue's goals ask of a phase, from its figures: backlog, exactly-once, recovery.

- *backlog*: alerts accepted but not yet at the exchange at a given moment (those the
  router or executor refused expect no order and are not counted);
- *exactly-once*: every accepted alert (not refused) has exactly one order at the exchange
  (by its client order id) and the ledger recorded fills of exactly one exchange order;
- *kill-to-next-order*: for a service SIGKILLed mid-phase, the tenants whose messages it
  held (in its input before the kill, not yet past it) and, per tenant, the time from the
  restart to the first of those messages arriving where the service sends it (the order at
  the exchange for the router and the executor, the fill in the ledger for the ledger).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from benchmarks.pipeline.figures import PhaseFigures, quantile
from benchmarks.pipeline.outcomes import Sent, client_order_id

# Per killable service, by figure field: when a message reached its input, when the service
# was done with it, and when it arrived where the service sends it on (what a trader sees).
STAGES = {
    "router": ("stored_at", "orders_at", "exchange_at"),
    "executor": ("orders_at", "exchange_at", "exchange_at"),
    "ledger": ("exchange_at", "ledger_at", "ledger_at"),
}


def expecting_orders(figures: PhaseFigures) -> list[Sent]:
    """The accepted alerts that should have an order: neither router nor executor refused."""
    return [a for a in figures.accepted if a.intent_id not in figures.refused]


def backlog_at(figures: PhaseFigures, at_ms: float) -> int:
    """How many accepted alerts were not yet at the exchange at ``at_ms`` (ms epoch)."""
    return sum(
        1
        for a in expecting_orders(figures)
        if figures.exchange_at.get(a.intent_id, math.inf) > at_ms
    )


@dataclass(frozen=True, slots=True)
class Tally:
    """How many alerts had no, exactly one, or more than one of something."""

    none: int = 0
    once: int = 0
    more: int = 0

    def text(self, of: int, where: str) -> str:
        return f"{self.once} of {of} {where} ({self.none} missing, {self.more} twice or more)"


def tally(counts: Sequence[int]) -> Tally:
    return Tally(
        sum(1 for n in counts if n == 0),
        sum(1 for n in counts if n == 1),
        sum(1 for n in counts if n > 1),
    )


@dataclass(frozen=True, slots=True)
class ExactlyOnce:
    """Exactly-once of a phase's accepted alerts, at the exchange and in the ledger."""

    expected: int  # accepted and not refused
    refused: Counter[str]  # by reason
    exchange: Tally
    ledger: Tally

    @property
    def holds(self) -> bool:
        return self.exchange.once == self.ledger.once == self.expected

    def text(self) -> str:
        return (
            f"exactly once: {self.exchange.text(self.expected, 'at the exchange')}, "
            f"{self.ledger.text(self.expected, 'in the ledger')}; "
            f"{self.refused.total()} refused (no order expected){self._reasons()}"
            + ("" if self.holds else "  << NOT EXACTLY ONCE")
        )

    def _reasons(self) -> str:
        return "".join(f", {n} {why}" for why, n in self.refused.most_common())


def exactly_once(figures: PhaseFigures) -> ExactlyOnce:
    """Count each expected alert's orders at the exchange and in the ledger."""
    expected = expecting_orders(figures)
    at_exchange = [figures.exchange_counts.get(client_order_id(a.intent_id), 0) for a in expected]
    in_ledger = [figures.ledger_counts.get(a.intent_id, 0) for a in expected]
    refused = Counter(
        figures.refused[a.intent_id] for a in figures.accepted if a.intent_id in figures.refused
    )
    return ExactlyOnce(len(expected), refused, tally(at_exchange), tally(in_ledger))


@dataclass(frozen=True, slots=True)
class Kill:
    """One SIGKILL of a service during a phase and its restart (ms epoch)."""

    service: str
    killed_ms: float
    restarted_ms: float  # started again, as an orchestrator would
    ready_ms: float  # answering /readyz


def moments(figures: PhaseFigures, name: str) -> Mapping[str, float]:
    """A stage's moments by intent id (``stored_at``: when ingress answered the 202)."""
    if name == "stored_at":
        return {
            a.intent_id: a.due_ms + a.answer_ms
            for a in figures.accepted
            if a.first_status == 202 and a.answer_ms is not None
        }
    found: Mapping[str, float] = getattr(figures, name)
    return found


def kill_to_next_order(figures: PhaseFigures, kill: Kill) -> tuple[dict[int, float | None], int]:
    """Per tenant whose messages the killed service held: ms from the restart to the first of
    them out (None: never); and how many messages it held.
    """
    came, done, seen = (moments(figures, name) for name in STAGES[kill.service])
    outs: dict[int, list[float]] = {}
    count = 0
    for alert in expecting_orders(figures):
        arrived, left = came.get(alert.intent_id), done.get(alert.intent_id, math.inf)
        if arrived is None or arrived >= kill.killed_ms or left <= kill.killed_ms:
            continue  # not yet in its input at the kill, or already through
        count += 1
        outs.setdefault(alert.tenant, [])
        if (at := seen.get(alert.intent_id)) is not None:
            outs[alert.tenant].append(at - kill.restarted_ms)
    return {tenant: min(waits, default=None) for tenant, waits in outs.items()}, count


def kill_text(figures: PhaseFigures, kill: Kill, first_due_ms: float) -> str:
    """One line on a kill: when, what it held, kill-to-next-order p50 / max."""
    held, count = kill_to_next_order(figures, kill)
    waits = [w for w in held.values() if w is not None]
    never = len(held) - len(waits)
    spread = (
        f"kill-to-next-order p50 {quantile(waits, 0.5) / 1e3:.2f} s, max {max(waits) / 1e3:.2f} s"
        if waits
        else "kill-to-next-order: none"
    )
    return (
        f"  SIGKILL {kill.service} at +{(kill.killed_ms - first_due_ms) / 1e3:.2f} s, restarted "
        f"after {(kill.restarted_ms - kill.killed_ms) / 1e3:.2f} s, ready "
        f"{(kill.ready_ms - kill.restarted_ms) / 1e3:.2f} s later; it held {count} messages "
        f"of {len(held)} tenants: {spread}" + (f", {never} tenants never" if never else "")
    )
