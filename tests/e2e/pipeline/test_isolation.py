"""Isolation: two tenants trading the same symbols at the same moment never see or touch each
other's orders, trades, positions, trails, usage or settings.

Each tenant has its own paper account; the paper exchange knows an account only by the API key
that signs a request, so the orders each account holds were placed with that tenant's keys.
Those orders must be exactly the tenant's own alerts: the router names an alert's order
``sp<intent id><leg>``, and the intent ids are the ones ingress answered each tenant with.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

import httpx
import pytest

from scripts.devstack import Stack, StackConfig
from tests.helpers import pipeline
from tests.helpers.e2e_alerts import (
    accepted,
    api_client,
    client_order_id,
    settled_trail,
    timenow,
)
from tests.helpers.polling import eventually

pytestmark = pytest.mark.asyncio(loop_scope="module")

SYMBOLS = {"BTCUSDT": "BTC/USDT", "ETHUSDT": "ETH/USDT"}
# Each buy: one unit of the symbol's size for the first tenant, two for the second.
UNIT = {"BTCUSDT": Decimal("0.001"), "ETHUSDT": Decimal("0.01")}
ALERTS_PER_SYMBOL = 5
WAIT_S = 90.0


async def buy_everything(
    client: httpx.AsyncClient, trader: pipeline.Trader, units: int
) -> dict[str, set[str]]:
    """Send all the trader's buys at once; return its intent ids by exchange symbol."""

    async def one(symbol: str, n: int) -> tuple[str, str]:
        body = f"buy BINANCE:{symbol} {UNIT[symbol] * units} id={symbol}-{n} time={timenow()}"
        return symbol, await accepted(client, trader, body)

    sent = await asyncio.gather(*(one(s, n) for s in SYMBOLS for n in range(ALERTS_PER_SYMBOL)))
    return {s: {i for sym, i in sent if sym == s} for s in SYMBOLS}


async def test_two_tenants_on_the_same_symbols_see_and_use_only_their_own(stack: Stack) -> None:
    cfg = stack.cfg
    async with api_client() as client:
        ann, ben = await asyncio.gather(
            pipeline.provision(client, cfg, "ann", balances={"USDT": "100000"}),
            pipeline.provision(client, cfg, "ben", balances={"USDT": "100000"}),
        )
        await pipeline.put_settings(client, cfg, ann, {"allowed_symbols": list(SYMBOLS)})
        units = {ann.name: 1, ben.name: 2}
        sent = dict(
            zip(
                (ann.name, ben.name),
                await asyncio.gather(
                    buy_everything(client, ann, units[ann.name]),
                    buy_everything(client, ben, units[ben.name]),
                ),
                strict=True,
            )
        )
        for trader in (ann, ben):
            for intent_id in set().union(*sent[trader.name].values()):
                trail = await settled_trail(client, cfg, trader, intent_id, WAIT_S)
                assert [o["status"] for o in trail["orders"]] == ["filled"], trail
        for me, other in ((ann, ben), (ben, ann)):
            await _only_own_orders_at_the_exchange(client, cfg, me, sent[me.name])
            await _only_own_in_the_ledger(client, cfg, me, sent[me.name], units[me.name])
            await _other_intents_are_not_found(client, cfg, me, sent[other.name])
            await _own_usage_only(client, cfg, me)
        overview = await client.get(f"{cfg.url('router')}/api/v1/settings", headers=ben.auth)
    assert overview.json() == {"layers": []}


async def _only_own_orders_at_the_exchange(
    client: httpx.AsyncClient, cfg: StackConfig, me: pipeline.Trader, mine: dict[str, set[str]]
) -> None:
    for symbol, intents in mine.items():
        orders = await pipeline.exchange_orders(client, cfg, me, symbol)
        assert {o["clientOrderId"] for o in orders} == {client_order_id(i) for i in intents}
        assert {o["status"] for o in orders} == {"FILLED"}


async def _only_own_in_the_ledger(
    client: httpx.AsyncClient,
    cfg: StackConfig,
    me: pipeline.Trader,
    mine: dict[str, set[str]],
    units: int,
) -> None:
    everything = set().union(*mine.values())
    trades = await pipeline.trades(client, cfg, me)
    assert sorted(t["intent_id"] for t in trades) == sorted(everything)
    assert {t["client_order_id"] for t in trades} == {client_order_id(i) for i in everything}
    positions = {p["symbol"]: p for p in await pipeline.positions(client, cfg, me)}
    assert set(positions) == set(SYMBOLS.values())
    for symbol, unified in SYMBOLS.items():
        fills = await pipeline.exchange_fills(client, cfg, me, symbol)
        at_exchange = pipeline.net_fills(fills, base=unified.split("/")[0])
        bought = sum((Decimal(f["qty"]) for f in fills), Decimal(0))
        assert bought == UNIT[symbol] * units * ALERTS_PER_SYMBOL
        assert Decimal(positions[unified]["quantity"]) == at_exchange


async def _other_intents_are_not_found(
    client: httpx.AsyncClient, cfg: StackConfig, me: pipeline.Trader, theirs: dict[str, set[str]]
) -> None:
    for intent_id in set().union(*theirs.values()):
        resp = await client.get(f"{cfg.url('ledger')}/api/v1/orders/{intent_id}", headers=me.auth)
        assert resp.status_code == 404, resp.text


async def _own_usage_only(client: httpx.AsyncClient, cfg: StackConfig, me: pipeline.Trader) -> None:
    alerts = len(SYMBOLS) * ALERTS_PER_SYMBOL
    counted = await eventually(
        lambda: pipeline.usage(client, cfg, me),
        until=lambda u: u.get("orders_filled", 0) >= alerts,
        timeout_s=WAIT_S,
        what=f"{me.name}'s orders filled counted",
    )
    assert (counted["alerts_accepted"], counted["orders_placed"], counted["orders_filled"]) == (
        alerts,
        alerts,
        alerts,
    )
