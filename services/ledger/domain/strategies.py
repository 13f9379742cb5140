"""A strategy's figures kept as the projector goes, instead of aggregated on every read.

The strategies page wants, per strategy seen in alerts: alerts, trades (alerts that filled),
wins and losses (alerts whose fills realized a profit or a loss), realized PnL per currency
and the last signal. Aggregating a tenant's alerts on each request cost ~0.1 s at 100,000
alerts. Instead each batch adds to ``strategy_totals`` what every alert it changed now
contributes, less what it contributed before the batch (the row as loaded): counts and sums
are additive, so the table equals an aggregate from scratch whatever the batch boundaries.
The last signal is the latest ``received_at``, which ingress sets once per alert.

An alert counts once it is in the feed (a webhook received it) and has a strategy. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from services.ledger.domain.positions import EXACT
from services.ledger.domain.rows import IntentKey, IntentRow, StrategyTally

TallyKey = tuple[str, str, str]  # tenant, strategy, currency ("" for the counts)


def contributions(row: IntentRow | None) -> list[StrategyTally]:
    """Return what one alert adds to its strategy's figures (nothing outside the feed)."""
    if row is None or row.webhook_id is None or row.strategy is None:
        return []
    counts = StrategyTally(
        row.tenant_id,
        row.strategy,
        "",
        1,
        trades=int(row.filled_amount > 0),
        wins=int(row.realized_pnl > 0),
        losses=int(row.realized_pnl < 0),
        last_signal_at=row.received_at,
    )
    if row.pnl_currency is None:
        return [counts]
    pnl = StrategyTally(
        row.tenant_id, row.strategy, row.pnl_currency, 1, realized_pnl=row.realized_pnl
    )
    return [counts, pnl]


def tallies(
    before: Mapping[IntentKey, IntentRow | None], after: Mapping[IntentKey, IntentRow]
) -> list[StrategyTally]:
    """Return the change of every strategy's figures when the alerts ``before`` became the
    alerts ``after`` (one entry per tenant, strategy and currency that moved)."""
    totals: dict[TallyKey, StrategyTally] = {}
    for key, row in after.items():
        now, then = contributions(row), contributions(before.get(key))
        if now == then:
            continue  # e.g. an order placed: the alert's figures did not move
        for tally in now:
            _add(totals, tally, 1)
        for tally in then:
            _add(totals, tally, -1)
    return list(totals.values())


def _add(totals: dict[TallyKey, StrategyTally], tally: StrategyTally, sign: int) -> None:
    key = (tally.tenant_id, tally.strategy, tally.currency)
    kept = totals.get(key) or StrategyTally(*key, 0)
    # A difference keeps the scale of the figures it comes from (1.50 - 1.50 = 0.00), so the
    # sums have the scale an aggregate of the alerts would have.
    add = EXACT.add if sign > 0 else EXACT.subtract
    pnl = add(kept.realized_pnl, tally.realized_pnl)
    totals[key] = StrategyTally(
        *key,
        kept.alerts + sign * tally.alerts,
        kept.trades + sign * tally.trades,
        kept.wins + sign * tally.wins,
        kept.losses + sign * tally.losses,
        pnl,
        _latest((kept.last_signal_at, tally.last_signal_at)),
    )


def _latest(times: Iterable[datetime | None]) -> datetime | None:
    present = [t for t in times if t is not None]
    return max(present) if present else None
