"""Futures through the real stream and the read API: shorts, reverses, protective orders,
marks and funding, as a trader reads them."""

from __future__ import annotations

from typing import Any

import httpx
from nats.js import JetStreamContext

from libs.common.messages import Event, OrderRole, Side
from libs.common.topology import Topology
from services.ledger.handlers.projector import Projector
from tests.helpers.ledger import Order, fill, publish, tick
from tests.integration.ledger.futures import (
    PERP,
    Protection,
    entry_with_leverage,
    funding,
    futures_story,
    marked,
    protection_failed,
)
from tests.integration.ledger.support import Headers, applied_through, key_for


async def project(
    js: JetStreamContext, topology: Topology, projector: Projector, events: list[Event]
) -> None:
    await applied_through(projector, await publish(js, topology, events))


async def position(client: httpx.AsyncClient, headers: Headers, symbol: str) -> dict[str, Any]:
    response = await client.get("/api/v1/positions", params={"symbol": symbol}, headers=headers)
    assert response.status_code == 200
    (found,) = response.json()["positions"]
    return dict(found)


async def test_a_long_whose_take_profit_fills_shows_the_round_trip_and_its_protection(
    client: httpx.AsyncClient, js: JetStreamContext, topology: Topology, projector: Projector
) -> None:
    entry = Order("tenant-a", symbol=PERP)
    tp = Protection.of(entry, OrderRole.TAKE_PROFIT)
    sl = Protection.of(entry, OrderRole.STOP_LOSS)
    await project(
        js,
        topology,
        projector,
        [
            *entry_with_leverage(entry, "0.01", leverage="5"),
            entry.filled(fill("e1", "60000", "0.01", fee="0.24")),
            tp.placed("0.01", trigger="61200"),
            sl.placed("0.01", trigger="59400"),
            tp.filled(fill("tp1", "61200", "0.01", fee="0.2448")),
            sl.canceled(),
        ],
    )
    alice = await key_for(client, js, topology, "tenant-a")
    btc = await position(client, alice, PERP)
    # (61200 - 60000) x 0.01 = 12, less 0.24 + 0.2448 in USDT fees
    assert (btc["side"], btc["quantity"], btc["realized_pnl"]) == ("flat", "0", "11.5152")
    trail = (await client.get(f"/api/v1/orders/{entry.intent_id}", headers=alice)).json()
    orders = {o["client_order_id"]: o for o in trail["orders"]}
    assert orders[entry.client_order_id]["role"] == "order"
    assert orders[entry.client_order_id]["leverage"] == "5"
    take_profit, stop = orders[tp.client_order_id], orders[sl.client_order_id]
    assert (take_profit["role"], take_profit["status"]) == ("take_profit", "filled")
    assert take_profit["parent_client_order_id"] == entry.client_order_id
    assert (take_profit["trigger_price"], take_profit["reduce_only"]) == ("61200", True)
    assert take_profit["order_type"] == "take_profit"
    assert [f["trade_id"] for f in take_profit["fills"]] == ["tp1"]
    assert (stop["role"], stop["status"], stop["order_type"]) == ("stop_loss", "canceled", "stop")
    assert trail["protection_failed"] == []


async def test_a_short_round_trip_realizes_entry_minus_exit(
    client: httpx.AsyncClient, js: JetStreamContext, topology: Topology, projector: Projector
) -> None:
    short = Order("tenant-a", symbol=PERP, side=Side.SELL)
    add = Order("tenant-a", symbol=PERP, side=Side.SELL)
    cover = Order("tenant-a", symbol=PERP, side=Side.BUY)
    await project(js, topology, projector, [*short.trade(fill("s1", "100", "1"))])
    alice = await key_for(client, js, topology, "tenant-a")
    opened = await position(client, alice, PERP)
    assert (opened["side"], opened["quantity"], opened["average_entry_price"]) == (
        "short",
        "-1",
        "100",
    )
    await project(js, topology, projector, [*add.trade(fill("s2", "106", "2"))])
    assert (await position(client, alice, PERP))["average_entry_price"] == "104"
    await project(js, topology, projector, [*cover.trade(fill("c1", "98", "3", fee="0.3"))])
    closed = await position(client, alice, PERP)
    # (104 - 98) x 3 = 18, less the 0.3 USDT fee
    assert (closed["side"], closed["quantity"], closed["realized_pnl"]) == ("flat", "0", "17.7")


async def test_a_reverse_closes_the_long_and_opens_a_short_at_the_fill_price(
    client: httpx.AsyncClient, js: JetStreamContext, topology: Topology, projector: Projector
) -> None:
    long = Order("tenant-a", symbol=PERP)
    reverse = Order("tenant-a", symbol=PERP, side=Side.SELL)
    await project(
        js,
        topology,
        projector,
        [*long.trade(fill("l1", "100", "1")), *reverse.trade(fill("r1", "90", "3"))],
    )
    alice = await key_for(client, js, topology, "tenant-a")
    btc = await position(client, alice, PERP)
    assert (btc["side"], btc["quantity"], btc["average_entry_price"]) == ("short", "-2", "90")
    assert btc["realized_pnl"] == "-10"  # the long of 1 closed at 90


async def test_marks_give_unrealized_pnl_from_the_ledgers_entry_and_the_newest_mark_wins(
    client: httpx.AsyncClient, js: JetStreamContext, topology: Topology, projector: Projector
) -> None:
    short = Order("tenant-a", symbol=PERP, side=Side.SELL)
    t1, t2 = tick(), tick()
    await project(
        js,
        topology,
        projector,
        [
            *short.trade(fill("s1", "100", "2", fee="0.08")),
            marked("tenant-a", "-2", "100", "97", "6", at=t2, liquidation="140"),
            marked("tenant-a", "-2", "100", "99", "2", at=t1),  # polled earlier, arrived late
            *Order("tenant-a").trade(fill("b1", "50", "1")),  # spot: never marked
        ],
    )
    alice = await key_for(client, js, topology, "tenant-a")
    btc = await position(client, alice, PERP)
    assert (btc["mark_price"], btc["unrealized_pnl"]) == ("97", "6")  # (97 - 100) x -2
    assert (btc["venue_unrealized_pnl"], btc["venue_quantity"]) == ("6", "-2")
    assert btc["liquidation_price"] == "140"
    pnl = (await client.get("/api/v1/pnl", headers=alice)).json()
    (usdt,) = pnl["totals"]
    assert (usdt["currency"], usdt["realized_pnl"], usdt["unrealized_pnl"]) == (
        "USDT",
        "-0.08",
        "6",
    )
    assert usdt["total"] == "5.92"
    spot = await position(client, alice, "BTC/USDT")
    assert (spot["mark_price"], spot["unrealized_pnl"], spot["marked_at"]) == (None, None, None)


async def test_funding_is_recorded_once_per_venue_id_and_counted_in_pnl(
    client: httpx.AsyncClient, js: JetStreamContext, topology: Topology, projector: Projector
) -> None:
    at = tick()
    await project(
        js,
        topology,
        projector,
        [
            funding("tenant-a", "-0.5", "f1", at=at),
            funding("tenant-a", "-0.5", "f1", at=at),  # the executor polled it again
            funding("tenant-a", "0.2", "f2", at=tick()),
            funding("tenant-b", "-9", "f1", at=at),  # another tenant's own f1
        ],
    )
    alice = await key_for(client, js, topology, "tenant-a")
    rows = (await client.get("/api/v1/funding", headers=alice)).json()["funding"]
    assert [(r["funding_id"], r["amount"], r["currency"]) for r in rows] == [
        ("f2", "0.2", "USDT"),
        ("f1", "-0.5", "USDT"),
    ]
    pnl = (await client.get("/api/v1/pnl", headers=alice)).json()
    assert [day["funding"] for day in pnl["days"]] == ["-0.3"]
    (usdt,) = pnl["totals"]
    assert (usdt["funding"], usdt["total"]) == ("-0.3", "-0.3")


async def test_the_trail_says_which_protection_could_not_be_placed(
    client: httpx.AsyncClient, js: JetStreamContext, topology: Topology, projector: Projector
) -> None:
    entry = Order("tenant-a", symbol=PERP)
    await project(
        js,
        topology,
        projector,
        [
            *entry.trade(fill("e1", "100", "1")),
            protection_failed(entry, OrderRole.STOP_LOSS, "The stop would trigger at once."),
        ],
    )
    alice = await key_for(client, js, topology, "tenant-a")
    trail = (await client.get(f"/api/v1/orders/{entry.intent_id}", headers=alice)).json()
    (failure,) = trail["protection_failed"]
    assert failure["client_order_id"] == entry.client_order_id
    assert (failure["protection"], failure["reason"]) == (
        "stop_loss",
        "The stop would trigger at once.",
    )
    (order,) = trail["orders"]
    assert order["status"] == "filled"  # a failed protection changes no status
    assert order["history"][-1]["kind"] == "protection.failed"


async def test_a_whole_futures_story_adds_up(
    client: httpx.AsyncClient, js: JetStreamContext, topology: Topology, projector: Projector
) -> None:
    await project(js, topology, projector, futures_story("tenant-a"))
    alice = await key_for(client, js, topology, "tenant-a")
    btc = await position(client, alice, PERP)
    # TP round trip: 2 - 0.08 fees; then a new long of 0.5 at 105, marked at 101
    assert (btc["quantity"], btc["realized_pnl"]) == ("0.5", "1.92")
    assert (btc["unrealized_pnl"], btc["venue_unrealized_pnl"]) == ("-2", "1")
    eth = await position(client, alice, "ETH/USDT:USDT")
    assert (eth["side"], eth["realized_pnl"]) == ("flat", "197.64")
    (usdt,) = (await client.get("/api/v1/pnl", headers=alice)).json()["totals"]
    assert (usdt["realized_pnl"], usdt["funding"], usdt["unrealized_pnl"]) == (
        "199.56",
        "-0.01",
        "-2",
    )
    assert usdt["total"] == "197.55"
