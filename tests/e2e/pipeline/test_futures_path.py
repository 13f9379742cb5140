"""Perpetual futures through the whole stack, every service a real process: a trader's futures
account on the paper exchange (real ccxt `binanceusdm`), alerts written from the templates of
docs/alerts.md, protective orders placed after the fill and canceled when the position closes,
and what the ledger then shows.

Prices are pinned, so every figure can be worked out by hand: the paper exchange charges
Binance's USDⓈ-M taker fee (0.05 % of the notional, in USDT).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import httpx
import pytest

from scripts.devstack import Stack, StackConfig
from tests.helpers import pipeline
from tests.helpers.e2e_alerts import accepted, api_client, marked_templates, render, timenow
from tests.helpers.polling import eventually

pytestmark = pytest.mark.asyncio(loop_scope="module")

WAIT_S = 60.0
TAKER = Decimal("0.0005")
PROTECTIVE = ("take_profit", "stop_loss")
FINAL = frozenset({"filled", "rejected", "failed", "canceled"})


def template(name: str, **values: str) -> str:
    """A marked template of docs/alerts.md as TradingView renders it (a long entry)."""
    defaults = {
        "timenow": timenow(),
        "strategy.order.action": "buy",
        "strategy.order.contracts": "0.01",
        "strategy.market_position": "long",
        "strategy.position_size": "0.01",
        "close": "60000",
        "interval": "15",
    }
    return render(marked_templates()[name], defaults | values)


async def trader_with_futures(
    client: httpx.AsyncClient, cfg: StackConfig, name: str
) -> tuple[pipeline.Trader, pipeline.FuturesAccount]:
    trader = await pipeline.provision(client, cfg, name, plan="pro", limits={})
    account = await pipeline.add_futures_account(client, cfg, trader)
    # TradersPost templates name no account: they trade on the default one.
    await pipeline.put_settings(client, cfg, trader, {"default_account": "futures"})
    return trader, account


async def decided(
    client: httpx.AsyncClient,
    cfg: StackConfig,
    trader: pipeline.Trader,
    intent_id: str,
    *,
    protected: bool = False,
    settled_only: bool = False,
) -> dict[str, Any]:
    """Wait until the alert is refused, or its orders ended (and, ``protected``, its entry's
    take-profit and stop-loss are placed; ``settled_only``: until it is accepted, for a cancel,
    whose outcome shows on the orders it cancels); return its trail."""
    found: dict[str, Any] = {}

    async def done() -> bool:
        trail = await pipeline.trail(client, cfg, trader, intent_id)
        if trail is None or trail["intent"] is None:
            return False
        found.clear()
        found.update(trail)
        if trail["intent"]["status"] == "rejected" or settled_only:
            return True
        orders = [o for o in trail["orders"] if o["role"] == "order"]
        exits = [o for o in trail["orders"] if o["role"] in PROTECTIVE]
        ended = bool(orders) and all(o["status"] in FINAL for o in orders)
        return ended and (not protected or len(exits) >= 1)

    await eventually(done, what=f"alert {intent_id} decided", timeout_s=WAIT_S)
    return found


async def held(client: httpx.AsyncClient, cfg: StackConfig, account: Any, symbol: str) -> Decimal:
    view = await pipeline.futures_view(client, cfg, account)
    return sum(
        (Decimal(p["amount"]) for p in view["positions"] if p["symbol"] == symbol), Decimal(0)
    )


async def _rejected(
    client: httpx.AsyncClient, cfg: StackConfig, trader: pipeline.Trader, intent_id: str
) -> bool:
    trail = await pipeline.trail(client, cfg, trader, intent_id)
    return trail is not None and (trail["intent"] or {}).get("status") == "rejected"


def roles(trail: Mapping[str, Any]) -> dict[str, str]:
    return {o["role"]: o["status"] for o in trail["orders"]}


async def test_a_long_with_tp_and_sl_takes_profit_cancels_its_stop_and_books_the_round_trip(
    stack: Stack,
) -> None:
    cfg = stack.cfg
    async with api_client() as client:
        ada, account = await trader_with_futures(client, cfg, "ada-futures")
        await pipeline.pin_prices(client, cfg, {"BTCUSDT": "60000"})
        entry = await accepted(client, ada, template("futures-long-tp-sl"))
        await decided(client, cfg, ada, entry, protected=True)
        resting = {"take_profit": "submitted", "stop_loss": "submitted"}
        await eventually(
            lambda: _statuses(client, cfg, ada, entry, resting),
            what="both protective orders resting",
            timeout_s=WAIT_S,
        )
        assert await held(client, cfg, account, "BTCUSDT") == Decimal("0.01")
        view = await pipeline.futures_view(client, cfg, account)
        (position,) = [p for p in view["positions"] if p["symbol"] == "BTCUSDT"]
        assert position["leverage"] == 5

        await pipeline.pin_prices(client, cfg, {"BTCUSDT": "61300"})  # past the take-profit
        took_profit = {"take_profit": "filled", "stop_loss": "canceled"}
        await eventually(
            lambda: _statuses(client, cfg, ada, entry, took_profit),
            what="the take-profit filled and the stop canceled",
            timeout_s=WAIT_S,
        )
        assert await held(client, cfg, account, "BTCUSDT") == 0
        ended = await pipeline.trail(client, cfg, ada, entry)
        assert ended is not None
        exits = {o["role"]: o for o in ended["orders"] if o["role"] in PROTECTIVE}
        assert Decimal(exits["take_profit"]["trigger_price"]) == Decimal(61200)
        assert Decimal(exits["stop_loss"]["trigger_price"]) == Decimal(59400)
        assert ended["protection_failed"] == []

        # Bought 0.01 at 60,000, sold at 61,300 when the take-profit fired: 13 USDT, less the
        # taker fees of both (0.05 % of 600 and of 613).
        expected = Decimal(13) - (Decimal(600) + Decimal(613)) * TAKER
        positions = await pipeline.positions(client, cfg, ada)
        (btc,) = [p for p in positions if p["symbol"] == "BTC/USDT:USDT"]
        assert Decimal(btc["quantity"]) == 0
        assert Decimal(btc["realized_pnl"]) == expected


async def _statuses(
    client: httpx.AsyncClient,
    cfg: StackConfig,
    trader: pipeline.Trader,
    intent_id: str,
    wanted: Mapping[str, str],
) -> bool:
    trail = await pipeline.trail(client, cfg, trader, intent_id)
    return trail is not None and all(roles(trail).get(r) == s for r, s in wanted.items())


class Templates:
    """One trader sending the marked templates of docs/alerts.md, and what to wait for."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        cfg: StackConfig,
        trader: pipeline.Trader,
        account: pipeline.FuturesAccount,
    ) -> None:
        self.client, self.cfg, self.trader, self.account = client, cfg, trader, account
        self.intents: dict[str, str] = {}

    async def run(
        self, name: str, *, protected: bool = False, cancel: bool = False
    ) -> dict[str, Any]:
        self.intents[name] = await accepted(self.client, self.trader, template(name))
        return await decided(
            self.client,
            self.cfg,
            self.trader,
            self.intents[name],
            protected=protected,
            settled_only=cancel,
        )

    async def exits_of(self, name: str, status: str) -> None:
        async def all_are() -> bool:
            trail = await pipeline.trail(self.client, self.cfg, self.trader, self.intents[name])
            exits = [o for o in (trail or {}).get("orders", []) if o["role"] in PROTECTIVE]
            return bool(exits) and all(o["status"] == status for o in exits)

        await eventually(all_are, what=f"the exits of {name} {status}", timeout_s=WAIT_S)

    async def held(self, symbol: str) -> Decimal:
        return await held(self.client, self.cfg, self.account, symbol)


async def test_the_futures_json_templates_open_close_target_trail_and_cancel(
    stack: Stack,
) -> None:
    cfg = stack.cfg
    async with api_client() as client:
        bob, account = await trader_with_futures(client, cfg, "bob-futures")
        await pipeline.pin_prices(client, cfg, {"BTCUSDT": "60000", "ETHUSDT": "3000"})
        docs = Templates(client, cfg, bob, account)
        await docs.run("futures-long-tp-sl", protected=True)
        await docs.run("futures-short-tp-sl", protected=True)
        await docs.run("futures-strategy-tp-sl", protected=True)
        assert (await docs.held("BTCUSDT"), await docs.held("ETHUSDT")) == (
            Decimal("0.02"),
            Decimal("-0.1"),
        )
        closed = await docs.run("futures-close")
        assert roles(closed)["order"] == "filled"
        assert await docs.held("BTCUSDT") == 0
        await docs.exits_of("futures-long-tp-sl", "canceled")  # a close cancels the exits
        await docs.exits_of("futures-strategy-tp-sl", "canceled")
        await docs.run("futures-target-position")  # long 0.01
        assert await docs.held("BTCUSDT") == Decimal("0.01")
        await docs.run("futures-trailing-stop", protected=True)
        assert await docs.held("BTCUSDT") == Decimal("0.02")

        cancel = await docs.run("futures-cancel", cancel=True)  # the take-profit, the trail
        assert cancel["intent"]["status"] == "accepted"
        await docs.exits_of("futures-trailing-stop", "canceled")
        assert await docs.held("BTCUSDT") == Decimal("0.02")  # orders canceled, not positions
        await docs.run("futures-text-cancel", cancel=True)  # nothing is open any more
        await eventually(
            lambda: _rejected(client, cfg, bob, docs.intents["futures-text-cancel"]),
            what="the empty cancel reported",
            timeout_s=WAIT_S,
        )
        nothing = await pipeline.trail(client, cfg, bob, docs.intents["futures-text-cancel"])
        assert nothing is not None
        assert nothing["intent"]["reject_reason"] == "unknown_order"
        assert "nothing was canceled" in nothing["intent"]["reject_message"]


async def test_the_text_and_traderspost_templates_trade_unchanged(stack: Stack) -> None:
    cfg = stack.cfg
    async with api_client() as client:
        cy, account = await trader_with_futures(client, cfg, "cy-futures")
        await pipeline.pin_prices(client, cfg, {"BTCUSDT": "60000", "ETHUSDT": "3000"})
        docs = Templates(client, cfg, cy, account)
        await docs.run("futures-text-long-tp-sl", protected=True)
        await docs.run("futures-text-short-trailing", protected=True)
        assert (await docs.held("BTCUSDT"), await docs.held("ETHUSDT")) == (
            Decimal("0.01"),
            Decimal("-0.1"),
        )
        await docs.run("futures-text-close")
        assert await docs.held("BTCUSDT") == 0
        await docs.exits_of("futures-text-long-tp-sl", "canceled")

        await docs.run("traderspost-strategy")
        await docs.run("traderspost-take-profit-stop-loss", protected=True)
        assert await docs.held("BTCUSDT") == Decimal("0.02")
        # A buy while short reverses: the short is closed first, then $200 of ETH bought.
        reversed_ = await docs.run("traderspost-trailing-stop", protected=True)
        assert [o["status"] for o in reversed_["orders"] if o["role"] == "order"] == [
            "filled",
            "filled",
        ]
        assert await docs.held("ETHUSDT") == Decimal("0.066")
        exited = await docs.run("traderspost-exit")
        assert roles(exited)["order"] == "filled"
        assert await docs.held("BTCUSDT") == 0
        await docs.exits_of("traderspost-take-profit-stop-loss", "canceled")


async def test_a_resting_entry_is_canceled_through_the_ledgers_api(stack: Stack) -> None:
    cfg = stack.cfg
    async with api_client() as client:
        dee, _ = await trader_with_futures(client, cfg, "dee-futures")
        await pipeline.pin_prices(client, cfg, {"BTCUSDT": "60000"})
        body = (
            '{"action": "buy", "ticker": "BINANCE:BTCUSDT.P", "account": "futures", '
            '"qty": "0.01", "order_type": "limit", "price": "50000", '
            f'"time": "{timenow()}"}}'
        )
        intent = await accepted(client, dee, body)
        await eventually(
            lambda: _statuses(client, cfg, dee, intent, {"order": "submitted"}),
            what="the limit entry resting",
            timeout_s=WAIT_S,
        )
        order_id = f"sp{intent}0"
        url = f"{cfg.url('ledger')}/api/v1/orders/{order_id}"
        asked = await client.delete(url, headers=dee.auth)
        assert asked.status_code == 202, asked.text
        assert asked.json()["cancel_requested"] is True
        await eventually(
            lambda: _statuses(client, cfg, dee, intent, {"order": "canceled"}),
            what="the entry canceled",
            timeout_s=WAIT_S,
        )
        again = await client.delete(url, headers=dee.auth)
        assert again.status_code == 409, again.text
