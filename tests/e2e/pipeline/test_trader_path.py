"""The trader's path, every service a real process: from `sparkyctl tenant create` to PnL.

An operator creates the tenant with the ``sparkyctl`` command; the trader adds a paper account
with its keys, sets trade settings through the router's API, and sends TradingView alerts
written from the templates in docs/alerts.md (JSON and one-line text), rendered as TradingView
renders them. What the trader then sees is read only through the APIs: the orders at the paper
exchange, the fills, positions and PnL at the ledger, the usage at billing, and for a refused
alert the reason in its trail.

The paper exchange keeps Binance's fees (0.1 %, a buy pays it in the base asset, a sell in the
quote asset); prices are pinned so that every figure can be worked out by hand.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from asyncio.subprocess import PIPE
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
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
    post,
    render,
    settled_trail,
    text_template,
    timenow,
)
from tests.helpers.polling import eventually

pytestmark = pytest.mark.asyncio(loop_scope="module")

ROOT = Path(__file__).resolve().parents[2]
USDT_ONLY = {"USDT": "100000"}
WAIT_S = 60.0


async def sparkyctl(cfg: StackConfig, *args: str) -> dict[str, Any]:
    """Run the operator's ``sparkyctl --json …`` against the stack's billing; return its answer."""
    env = os.environ | {
        "SPARKY_BILLING_URL": cfg.url("billing"),
        "SPARKY_OPERATOR_TOKEN": cfg.operator_token,
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tools.sparkyctl",
        "--json",
        *args,
        cwd=ROOT,
        env=env,
        stdout=PIPE,
        stderr=PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, (
        f"sparkyctl {' '.join(args)}: exit {proc.returncode}: {err.decode()}"
    )
    answer: dict[str, Any] = json.loads(out)
    return answer


def strategy_alert(action: str, ticker: str, contracts: str, order_id: str) -> str:
    """The 'one order per fill' template as TradingView renders it for one fill."""
    return render(
        json_template("Strategy, one order per fill"),
        {
            "strategy.order.action": action,
            "exchange": "BINANCE",
            "ticker": ticker,
            "strategy.order.contracts": contracts,
            "strategy.order.id": order_id,
            "timenow": timenow(),
        },
    )


def text_alert(action: str, ticker: str, contracts: str) -> str:
    """The one-line strategy template as TradingView renders it."""
    return render(
        text_template(),
        {
            "strategy.order.action": action,
            "ticker": ticker,
            "strategy.order.contracts": contracts,
            "timenow": timenow(),
        },
    )


def indicator_alert(index: int, ticker: str) -> str:
    """One of the indicator templates (0: buy 10 % of equity, 1: close) as rendered."""
    return render(
        json_template("Indicator alerts", index),
        {"exchange": "BINANCE", "ticker": ticker, "timenow": timenow()},
    )


def fill_of(trail: Mapping[str, Any]) -> dict[str, Any]:
    """The single fill of an alert's single order."""
    (order,) = trail["orders"]
    assert order["status"] == "filled", order
    (fill,) = order["fills"]
    return dict(fill)


async def test_trader_onboarded_with_the_cli_sees_orders_fills_positions_pnl_and_usage(
    stack: Stack,
) -> None:
    cfg = stack.cfg
    created = await sparkyctl(
        cfg, "tenant", "create", "Ada Lovelace", "--plan", "pro", "--label", "ema"
    )
    assert created["tenant"]["plan"] == "pro"
    async with api_client() as client:
        ada = await pipeline.equip(client, cfg, "ada", created, balances=USDT_ONLY)
        await pipeline.put_settings(
            client, cfg, ada, {"default_account": "main", "allowed_symbols": ["BTCUSDT", "ETHUSDT"]}
        )
        await pipeline.put_settings(
            client, cfg, ada, {"max_order_base": "0.005"}, scope="accounts/main/symbols/BTCUSDT"
        )
        in_force = await client.get(
            f"{cfg.url('router')}/api/v1/settings/effective",
            params={"account": "main", "symbol": "BTCUSDT"},
            headers=ada.auth,
        )
        assert in_force.status_code == 200, in_force.text
        assert in_force.json()["layers"] == ["tenant", "symbol"]
        settings = in_force.json()["settings"]
        assert (settings["allowed_symbols"], Decimal(settings["max_order_base"])) == (
            ["BTCUSDT", "ETHUSDT"],
            Decimal("0.005"),
        )
        await pipeline.pin_prices(client, cfg, {"BTCUSDT": "60000", "ETHUSDT": "3000"})

        # A strategy's entry, with the sender's own idempotency key, and TradingView resending it.
        entry = json.loads(strategy_alert("buy", "BTCUSDT", "0.002", "Long"))
        body = json.dumps(entry | {"id": f"ema-{entry['time']}"})
        buy_btc = await accepted(client, ada, body)
        resent = await post(client, ada, body)
        assert (resent.status_code, resent.json()) == (200, {"duplicate": True})
        # Sized by money: 100 USDT worth of ETH.
        money = render(
            json_template("Strategy, sized by money"),
            {
                "strategy.order.action": "buy",
                "exchange": "BINANCE",
                "ticker": "ETHUSDT",
                "timenow": timenow(),
            },
        )
        buy_eth = await accepted(client, ada, money)
        bought_btc = fill_of(await settled_trail(client, cfg, ada, buy_btc, WAIT_S))
        bought_eth = fill_of(await settled_trail(client, cfg, ada, buy_eth, WAIT_S))

        # The price moves; half the BTC is sold by a one-line alert, the ETH closed at cost
        # (all the strategy holds of it: what it bought, less the fee taken in ETH).
        await pipeline.pin_prices(client, cfg, {"BTCUSDT": "61000"})
        sell_btc = await accepted(client, ada, text_alert("sell", "BTCUSDT", "0.001"))
        close_eth = await accepted(client, ada, indicator_alert(1, "ETHUSDT"))
        sold_btc = fill_of(await settled_trail(client, cfg, ada, sell_btc, WAIT_S))
        sold_eth = fill_of(await settled_trail(client, cfg, ada, close_eth, WAIT_S))

        await _orders_at_the_exchange_are_the_alerts(
            client, cfg, ada, [buy_btc, sell_btc], [buy_eth, close_eth]
        )
        fills = [bought_btc, bought_eth, sold_btc, sold_eth]
        await _ledger_trades_are_the_exchange_fills(client, cfg, ada, fills)
        await _positions_and_pnl_add_up(
            client,
            cfg,
            ada,
            bought_btc=bought_btc,
            sold_btc=sold_btc,
            bought_eth=bought_eth,
            sold_eth=sold_eth,
        )
        counted = await eventually(
            lambda: pipeline.usage(client, cfg, ada),
            until=lambda u: u.get("orders_filled", 0) >= 4,
            timeout_s=WAIT_S,
            what=f"{ada.name}'s orders filled counted",
        )
    assert {
        k: counted.get(k)
        for k in ("alerts_accepted", "alerts_rejected", "orders_placed", "orders_filled")
    } == {
        "alerts_accepted": 4,
        "alerts_rejected": 0,
        "orders_placed": 4,
        "orders_filled": 4,
    }


async def _orders_at_the_exchange_are_the_alerts(
    client: httpx.AsyncClient,
    cfg: StackConfig,
    trader: pipeline.Trader,
    btc_intents: list[str],
    eth_intents: list[str],
) -> None:
    for symbol, intents in (("BTCUSDT", btc_intents), ("ETHUSDT", eth_intents)):
        orders = await pipeline.exchange_orders(client, cfg, trader, symbol)
        assert [(o["clientOrderId"], o["status"]) for o in orders] == [
            (client_order_id(i), "FILLED") for i in intents
        ]


async def _ledger_trades_are_the_exchange_fills(
    client: httpx.AsyncClient,
    cfg: StackConfig,
    trader: pipeline.Trader,
    trail_fills: list[dict[str, Any]],
) -> None:
    exchange = [
        *await pipeline.exchange_fills(client, cfg, trader, "BTCUSDT"),
        *await pipeline.exchange_fills(client, cfg, trader, "ETHUSDT"),
    ]
    ledger = await pipeline.trades(client, cfg, trader)
    seen = {
        (
            t["trade_id"],
            Decimal(t["price"]),
            Decimal(t["amount"]),
            Decimal(t["fee"]),
            t["fee_currency"],
        )
        for t in ledger
    }
    assert seen == {
        (
            str(f["id"]),
            Decimal(f["price"]),
            Decimal(f["qty"]),
            Decimal(f["commission"]),
            f["commissionAsset"],
        )
        for f in exchange
    }
    assert {t["id"] for t in ledger} == {f["id"] for f in trail_fills}


async def _positions_and_pnl_add_up(
    client: httpx.AsyncClient,
    cfg: StackConfig,
    trader: pipeline.Trader,
    *,
    bought_btc: Mapping[str, Any],
    sold_btc: Mapping[str, Any],
    bought_eth: Mapping[str, Any],
    sold_eth: Mapping[str, Any],
) -> None:
    assert (Decimal(bought_btc["price"]), Decimal(sold_btc["price"])) == (
        Decimal(60000),
        Decimal(61000),
    )
    assert Decimal(bought_eth["price"]) == Decimal(sold_eth["price"]) == 3000
    held_eth = Decimal(bought_eth["amount"])
    assert Decimal(100) - Decimal(3000) * Decimal("0.0001") < held_eth * 3000 <= Decimal(100)
    positions = {p["symbol"]: p for p in await pipeline.positions(client, cfg, trader)}
    btc, eth = positions["BTC/USDT"], positions["ETH/USDT"]
    # The buy's fee was taken in BTC: 0.002 BTC bought for 120 USDT left 0.001998 in the
    # wallet, at 120 / 0.001998 per coin. Selling 0.001 of them at 61,000 realizes the sale
    # less their share of the 120 USDT paid, less the sale's fee (in USDT).
    kept = Decimal(bought_btc["amount"]) - Decimal(bought_btc["fee"])
    assert kept == Decimal("0.001998")
    paid = Decimal(bought_btc["amount"]) * 60000
    btc_pnl = Decimal(61) - paid * Decimal("0.001") / kept - Decimal(sold_btc["fee"])
    # The ETH close sold what the strategy kept, to the lot size: at cost, less both fees.
    kept_eth = held_eth - Decimal(bought_eth["fee"])
    sold = Decimal(sold_eth["amount"])
    assert kept_eth - Decimal("0.0001") < sold <= kept_eth
    eth_pnl = sold * 3000 - held_eth * 3000 * sold / kept_eth - Decimal(sold_eth["fee"])
    assert (btc["side"], Decimal(btc["quantity"])) == ("long", kept - Decimal("0.001"))
    assert abs(Decimal(btc["average_entry_price"]) - paid / kept) < Decimal("1e-25")
    assert abs(Decimal(btc["realized_pnl"]) - btc_pnl) < Decimal("1e-25")
    assert btc["realized_pnl_currency"] == "USDT"
    assert {f["currency"]: Decimal(f["amount"]) for f in btc["fees"]} == {
        "BTC": Decimal(bought_btc["fee"]),
        "USDT": Decimal(sold_btc["fee"]),
    }
    assert Decimal(eth["quantity"]) == kept_eth - sold  # less than a lot: dust
    assert abs(Decimal(eth["realized_pnl"]) - eth_pnl) < Decimal("1e-25")
    days = await pipeline.daily_pnl(client, cfg, trader)
    usdt = [d for d in days if d["currency"] == "USDT"]
    realized = sum(Decimal(d["realized_pnl"]) for d in usdt)
    assert abs(realized - btc_pnl - eth_pnl) < Decimal("1e-25")
    assert sum(d["fills"] for d in usdt) == 4


async def test_refused_alerts_show_their_reason_in_the_trail_and_reach_no_exchange(
    stack: Stack,
) -> None:
    cfg = stack.cfg
    async with api_client() as client:
        bob = await pipeline.provision(client, cfg, "bob", balances=USDT_ONLY)
        await pipeline.put_settings(
            client, cfg, bob, {"allowed_symbols": ["BTCUSDT"], "max_order_base": "0.005"}
        )
        not_allowed = await accepted(client, bob, text_alert("buy", "SOLUSDT", "1"))
        too_big = await accepted(client, bob, strategy_alert("buy", "BTCUSDT", "0.01", "Long"))
        # 10 % of the equity: the router cannot price it, the executor refuses it when sizing.
        too_big_priced = await accepted(client, bob, indicator_alert(0, "BTCUSDT"))
        refused_symbol = await settled_trail(client, cfg, bob, not_allowed, WAIT_S)
        refused_size = await settled_trail(client, cfg, bob, too_big, WAIT_S)
        refused_order = await settled_trail(client, cfg, bob, too_big_priced, WAIT_S)
        at_exchange = [
            *await pipeline.exchange_orders(client, cfg, bob, "BTCUSDT"),
            *await pipeline.exchange_orders(client, cfg, bob, "SOLUSDT"),
        ]
        counted = await eventually(
            lambda: pipeline.usage(client, cfg, bob),
            until=lambda u: u.get("alerts_rejected", 0) >= 2,
            timeout_s=WAIT_S,
            what=f"{bob.name}'s alerts rejected counted",
        )

    for trail, reason, words in (
        (refused_symbol, "symbol_not_allowed", "SOLUSDT"),
        (refused_size, "max_order_size", "0.005"),
    ):
        assert (trail["intent"]["status"], trail["intent"]["reject_reason"]) == ("rejected", reason)
        assert words in trail["intent"]["reject_message"]
        assert trail["orders"] == []
    assert refused_order["intent"]["status"] == "accepted"
    (order,) = refused_order["orders"]
    assert (order["status"], order["reason_code"]) == ("rejected", "max_order_size")
    assert "0.005" in order["reason"]
    assert at_exchange == []
    assert counted["alerts_accepted"] == 3
    assert counted["alerts_rejected_by_reason"] == {"symbol_not_allowed": 1, "max_order_size": 1}
    assert counted.get("orders_placed", 0) == 0
