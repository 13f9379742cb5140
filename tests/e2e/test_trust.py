"""Every order is the one the trader meant, and every message true: the whole stack, real ccxt.

- A trader with 2 BTC of their own runs a strategy: whatever way it exits (close, a sell without
  a quantity, a target position, a percentage), the wallet keeps exactly the trader's 2 BTC plus
  what the strategy still holds, and the ledger's position is that, to the last unit.
- An order whose fate the executor could not learn is reported uncertain, then filled once it
  appears: one trail, counted once.
- Orders queued while the executor is down longer than the trader's max_signal_age_s are
  refused as stale, in words, and never placed.
- A missed alert shows as drift against TradingView's position, and healing restores it.

The paper exchange keeps Binance's fees (0.1 %, taken in BTC on a buy).
"""

from __future__ import annotations

import asyncio
import itertools
import json
from decimal import Decimal
from typing import Any

import httpx
import pytest

from scripts.devstack import Stack, StackConfig
from tests.helpers import pipeline
from tests.helpers.e2e_alerts import (
    accepted,
    api_client,
    client_order_id,
    json_template,
    render,
    settled_trail,
    timenow,
)
from tests.helpers.polling import eventually

pytestmark = pytest.mark.asyncio(loop_scope="module")

STACK_ENV = {
    # Give up on an unreachable exchange after 3 s, and rule out a late arrival 2 s after.
    "executor": {"RETRY_GIVE_UP_S": "3", "SUBMISSION_SETTLE_S": "2", "TRACKER_INTERVAL_S": "0.5"}
}
OWN_BTC = Decimal(2)
WAIT_S = 60.0
_ids = itertools.count()


def alert(text: str) -> str:
    """A one-line alert made unique (two identical texts within a minute are one alert)."""
    return f"{text} id=t{next(_ids)}"


def strategy_alert(action: str, contracts: str, position: str) -> str:
    """The template of docs/alerts.md with TradingView's position, rendered for one fill."""
    return render(
        json_template("Strategy, one order per fill, checked against TradingView"),
        {
            "strategy.order.action": action,
            "exchange": "BINANCE",
            "ticker": "BTCUSDT",
            "strategy.order.contracts": contracts,
            "strategy.market_position": "long",
            "strategy.position_size": position,
            "timenow": timenow(),
        },
    )


async def traded(
    client: httpx.AsyncClient, cfg: StackConfig, trader: pipeline.Trader, body: str
) -> dict[str, Any]:
    """Send one alert and return its trail once decided."""
    return await settled_trail(client, cfg, trader, await accepted(client, trader, body), WAIT_S)


async def books(
    client: httpx.AsyncClient, cfg: StackConfig, trader: pipeline.Trader
) -> tuple[Decimal, Decimal]:
    """The strategy's position at the ledger, and the wallet's BTC beyond the trader's own."""
    ledger = await pipeline.position_quantity(client, cfg, trader, "BTC/USDT")
    return ledger, await pipeline.wallet(client, cfg, trader, "BTC") - OWN_BTC


async def test_a_trader_keeps_their_own_coins_whatever_way_the_strategy_exits(
    stack: Stack,
) -> None:
    cfg = stack.cfg
    async with api_client() as client:
        holder = await pipeline.provision(
            client, cfg, "holder", balances={"USDT": "100000", "BTC": str(OWN_BTC)}
        )
        await pipeline.pin_prices(client, cfg, {"BTCUSDT": "60000"})
        flat = json.dumps(
            {"action": "sell", "ticker": "BINANCE:BTCUSDT", "market_position": "flat",
             "position_size": "0", "id": "flat-1"}
        )  # fmt: skip
        for exit_alert in (alert("close BTCUSDT"), alert("sell BTCUSDT"), flat):
            await traded(client, cfg, holder, alert("buy BTCUSDT 0.1"))
            assert await books(client, cfg, holder) == (Decimal("0.0999"), Decimal("0.0999"))
            (order,) = (await traded(client, cfg, holder, exit_alert))["orders"]
            assert (order["status"], Decimal(order["amount"])) == ("filled", Decimal("0.0999"))
            assert await books(client, cfg, holder) == (Decimal(0), Decimal(0)), exit_alert

        await traded(client, cfg, holder, alert("buy BTCUSDT 0.1"))
        await traded(client, cfg, holder, alert("close BTCUSDT 50%"))
        assert await books(client, cfg, holder) == (Decimal("0.04995"), Decimal("0.04995"))
        target = json.dumps(
            {"action": "sell", "ticker": "BINANCE:BTCUSDT", "market_position": "long",
             "position_size": "0.02", "id": "target-1"}
        )  # fmt: skip
        await traded(client, cfg, holder, target)
        assert await books(client, cfg, holder) == (Decimal("0.02"), Decimal("0.02"))
        await traded(client, cfg, holder, alert("close BTCUSDT"))
        assert await books(client, cfg, holder) == (Decimal(0), Decimal(0))


async def test_an_order_uncertain_at_first_is_reported_once_when_it_appears(
    stack: Stack,
) -> None:
    cfg = stack.cfg
    async with api_client() as client:
        trader = await pipeline.provision(client, cfg, "uncertain", balances={"USDT": "100000"})
        scope = {"account_id": trader.paper_account_id, "path": "/api/v3/order"}
        # The exchange takes the order but the answer is lost, and look-ups fail: the executor
        # gives up without learning what became of it.
        await pipeline.add_fault(
            client, cfg, kind="accept_then_error", method="POST", status=502, count=1, **scope
        )
        await pipeline.add_fault(client, cfg, kind="error", method="GET", status=503, **scope)
        intent_id = await accepted(client, trader, alert("buy BTCUSDT 0.01"))

        async def uncertain() -> bool:
            trail = await pipeline.trail(client, cfg, trader, intent_id)
            return bool(trail and trail["orders"] and trail["orders"][0]["status"] == "uncertain")

        await eventually(uncertain, what="the order reported uncertain", timeout_s=WAIT_S)
        await pipeline.clear_faults(client, cfg)
        trail = await settled_trail(client, cfg, trader, intent_id, WAIT_S)
        (order,) = trail["orders"]
        assert order["status"] == "filled"
        assert [h["kind"] for h in order["history"]] == [
            "order.uncertain",
            "order.submitted",
            "order.filled",
        ]
        at_exchange = await pipeline.exchange_orders(client, cfg, trader, "BTCUSDT")
        assert [o["clientOrderId"] for o in at_exchange] == [client_order_id(intent_id)]
        held = await pipeline.position_quantity(client, cfg, trader, "BTC/USDT")
        assert held == Decimal("0.00999") == await pipeline.wallet(client, cfg, trader, "BTC")


async def test_orders_queued_longer_than_the_signal_age_limit_are_refused_never_placed(
    stack: Stack,
) -> None:
    cfg = stack.cfg
    async with api_client() as client:
        trader = await pipeline.provision(client, cfg, "stale", balances={"USDT": "100000"})
        await pipeline.put_settings(client, cfg, trader, {"max_signal_age_s": 3})
        await asyncio.to_thread(stack["executor"].stop)
        try:
            sent = [await accepted(client, trader, alert("buy BTCUSDT 0.01")) for _ in range(3)]
            await asyncio.sleep(5)  # the executor stays down past the limit
        finally:
            await asyncio.to_thread(stack["executor"].start)
            await asyncio.to_thread(stack["executor"].wait_ready, 120.0)
        for intent_id in sent:
            (order,) = (await settled_trail(client, cfg, trader, intent_id, WAIT_S))["orders"]
            assert (order["status"], order["reason_code"]) == ("rejected", "stale_signal")
            assert "past your limit of 3 s" in order["reason"]
        assert await pipeline.exchange_orders(client, cfg, trader, "BTCUSDT") == []


async def test_a_missed_alert_shows_as_drift_and_healing_restores_tradingviews_position(
    stack: Stack,
) -> None:
    cfg = stack.cfg
    async with api_client() as client:
        trader = await pipeline.provision(client, cfg, "drift", balances={"USDT": "100000"})
        first = await traded(client, cfg, trader, strategy_alert("buy", "0.01", "0.01"))
        assert _drifts(first) == []  # 0.00999 held: the fee in BTC is no drift
        # TradingView's second buy (to 0.02) never reached Sparky; the third says 0.03.
        third = await traded(client, cfg, trader, strategy_alert("buy", "0.01", "0.03"))
        (reported,) = _drifts(third)
        assert (reported["source"], reported["healed"]) == ("tradingview", False)
        assert (Decimal(reported["expected"]), Decimal(reported["actual"])) == (
            Decimal("0.03"),
            Decimal("0.01998"),
        )
        assert "missed or refused" in reported["message"]

        await pipeline.put_settings(client, cfg, trader, {"position_drift": "heal"})
        fourth = await traded(client, cfg, trader, strategy_alert("buy", "0.01", "0.04"))
        (healed,) = _drifts(fourth)
        assert healed["healed"] is True
        (order,) = fourth["orders"]
        assert Decimal(order["amount"]) == Decimal("0.02002")  # 0.04 - 0.01998, not 0.01
        held = await pipeline.position_quantity(client, cfg, trader, "BTC/USDT")
        assert held == await pipeline.wallet(client, cfg, trader, "BTC")
        assert Decimal("0.04") - held < Decimal("0.0001")  # the fees taken in BTC


def _drifts(trail: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        h["detail"]
        for order in trail["orders"]
        for h in order["history"]
        if h["kind"] == "position.drift"
    ]
