"""The strategies' figures the projector keeps equal an aggregate of the alerts from scratch,
whatever the batch boundaries."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal

import pytest

from services.ledger.domain.inserts import trade_rows
from services.ledger.domain.projection import State, fold
from services.ledger.domain.rows import IntentKey, IntentRow, Sequenced, StrategyTally
from tests.helpers.ledger import strategy_story

TENANT = "tenant-a"
Figures = dict[tuple[str, str, str], tuple[int, int, int, int, str, datetime | None]]


def project(batch_size: int) -> tuple[dict[IntentKey, IntentRow], Figures]:
    """Fold the story batch by batch, carrying rows over as the database does, and add up
    each batch's tallies as ``strategy_totals``' upsert does."""
    items = [Sequenced(seq, e) for seq, e in enumerate(strategy_story(TENANT), start=1)]
    kept = State()
    totals: dict[tuple[str, str, str], StrategyTally] = {}
    for start in range(0, len(items), batch_size):
        batch = items[start : start + batch_size]
        loaded = State(dict(kept.intents), dict(kept.orders), dict(kept.positions))
        changes = fold(batch, {row.id for row in trade_rows(batch)}, loaded)
        kept.intents |= changes.intents
        kept.orders |= changes.orders
        kept.positions |= changes.positions
        for tally in changes.strategy_totals:
            key = (tally.tenant_id, tally.strategy, tally.currency)
            totals[key] = _plus(totals[key], tally) if key in totals else tally
    return kept.intents, {key: _figures(t) for key, t in totals.items() if t.alerts}


def _plus(a: StrategyTally, b: StrategyTally) -> StrategyTally:
    times = [t for t in (a.last_signal_at, b.last_signal_at) if t is not None]
    return replace(
        a,
        alerts=a.alerts + b.alerts,
        trades=a.trades + b.trades,
        wins=a.wins + b.wins,
        losses=a.losses + b.losses,
        realized_pnl=a.realized_pnl + b.realized_pnl,
        last_signal_at=max(times) if times else None,
    )


def _figures(t: StrategyTally) -> tuple[int, int, int, int, str, datetime | None]:
    return (t.alerts, t.trades, t.wins, t.losses, str(t.realized_pnl), t.last_signal_at)


def from_scratch(intents: dict[IntentKey, IntentRow]) -> Figures:
    """The aggregate the read API used to make of every alert, in the table's shape."""
    out: Figures = {}
    counted = [r for r in intents.values() if r.webhook_id and r.strategy is not None]
    for name in {r.strategy for r in counted}:
        mine = [r for r in counted if r.strategy == name]
        assert name is not None
        out[(TENANT, name, "")] = (
            len(mine),
            sum(r.filled_amount > 0 for r in mine),
            sum(r.realized_pnl > 0 for r in mine),
            sum(r.realized_pnl < 0 for r in mine),
            "0",
            max(r.received_at for r in mine if r.received_at is not None),
        )
        for currency in {r.pnl_currency for r in mine if r.pnl_currency}:
            assert currency is not None
            rows = [r for r in mine if r.pnl_currency == currency]
            pnl = sum((r.realized_pnl for r in rows), Decimal(0))
            out[(TENANT, name, currency)] = (len(rows), 0, 0, 0, str(pnl), None)
    return out


@pytest.mark.parametrize("batch_size", [1, 2, 3, 5, 100])
def test_kept_figures_equal_an_aggregate_from_scratch_whatever_the_batches(
    batch_size: int,
) -> None:
    intents, kept = project(batch_size)
    assert kept == from_scratch(intents)


def test_the_kept_figures_are_the_strategies_a_trader_sees() -> None:
    _, kept = project(3)
    trend, swing = kept[(TENANT, "Trend", "")], kept[(TENANT, "Swing", "")]
    assert trend[:4] == (2, 2, 1, 0)  # the sell's fill came before its alert: still a win
    assert kept[(TENANT, "Trend", "USDT")][0::4] == (2, "30.50")
    assert swing[:4] == (4, 3, 0, 2)  # the rejected alert counts, nothing filled
    assert kept[(TENANT, "Swing", "EUR")][0::4] == (2, "-5.10")
    assert (TENANT, "", "") not in kept  # alerts without a strategy are on no card
