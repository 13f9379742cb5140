"""The read API over projected events: what a trader sees, and never another tenant's data."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import httpx
import pytest
from nats.js import JetStreamContext

from libs.common.ids import new_id
from libs.common.messages import Event, Side
from libs.common.topology import Topology
from services.ledger.handlers.projector import Projector
from tests.helpers.ledger import T0, Order, fill, publish, rich_story
from tests.integration.ledger.support import Headers, applied_through, key_for


@pytest.fixture
async def alice(
    client: httpx.AsyncClient, js: JetStreamContext, topology: Topology, projector: Projector
) -> Headers:
    """tenant-a with a busy history, and tenant-b with one of its own; tenant-a's key."""
    last = await publish(js, topology, [*rich_story("tenant-a"), *rich_story("tenant-b")])
    await applied_through(projector, last)
    return await key_for(client, js, topology, "tenant-a")


async def test_positions_show_net_quantity_entry_pnl_and_fees_per_currency(
    client: httpx.AsyncClient, alice: Headers
) -> None:
    response = await client.get("/api/v1/positions", headers=alice)
    assert response.status_code == 200
    positions = {(p["account"], p["symbol"]): p for p in response.json()["positions"]}
    btc = positions[("main", "BTC/USDT")]
    # Bought 0.5 @ 100 and 1.5 @ 101 less a fee of 0.0015 BTC: 1.9985 BTC held for 201.5
    # USDT. Sold 2 @ 110: the 1.9985 held realize 219.835 - 201.5 = 18.335, and the rest opens
    # a short of 0.0015 at 110; then 0.25 more @ 111: short 0.2515 for 27.915 USDT.
    assert btc["side"] == "short"
    assert btc["quantity"] == "-0.2515"
    assert btc["average_entry_price"] == "110.9940357852882703777335984095427"
    assert btc["realized_pnl"] == "18.065"  # 18.335 - 0.05 - 0.22 (USDT fees)
    assert btc["realized_pnl_currency"] == "USDT"
    assert btc["fees"] == [
        {"currency": "BNB", "amount": "0.01"},
        {"currency": "BTC", "amount": "0.0015"},
        {"currency": "USDT", "amount": "0.27"},
    ]
    assert positions[("swing", "ETH/USDT:USDT")]["quantity"] == "0.1"
    filtered = await client.get("/api/v1/positions?account=swing", headers=alice)
    assert [p["symbol"] for p in filtered.json()["positions"]] == ["ETH/USDT:USDT"]


async def test_trades_come_newest_first_page_by_page_with_filters(
    client: httpx.AsyncClient, alice: Headers
) -> None:
    pages: list[list[str]] = []
    cursor = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        body = (await client.get("/api/v1/trades", params=params, headers=alice)).json()
        pages.append([t["trade_id"] for t in body["trades"]])
        if (cursor := body["next_cursor"]) is None:
            break
    assert pages == [["e1", "r1"], ["c1", "b2"], ["b1"]]
    by_symbol = await client.get("/api/v1/trades?symbol=ETH/USDT:USDT", headers=alice)
    assert [t["trade_id"] for t in by_symbol.json()["trades"]] == ["e1"]
    day2 = (T0 + timedelta(days=1)).date().isoformat()
    first_day = await client.get(f"/api/v1/trades?to={day2}T00:00:00Z", headers=alice)
    assert [t["trade_id"] for t in first_day.json()["trades"]] == ["b2", "b1"]
    since = await client.get(f"/api/v1/trades?from={day2}T00:00:00", headers=alice)
    assert len(since.json()["trades"]) == 3


async def test_csv_export_streams_every_matching_trade(
    client: httpx.AsyncClient, alice: Headers
) -> None:
    for url in ("/api/v1/trades.csv?account=main", "/api/v1/trades?format=csv&account=main"):
        response = await client.get(url, headers=alice)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert [r["trade_id"] for r in rows] == ["r1", "c1", "b2", "b1"]
        assert rows[-1]["price"] == "100"
        assert rows[-1]["fee"] == "0.05"
        assert rows[0]["fee_currency"] == "BNB"


async def test_the_order_trail_follows_an_alert_from_webhook_to_fills(
    client: httpx.AsyncClient, js: JetStreamContext, topology: Topology, projector: Projector
) -> None:
    close = Order("tenant-a", side=Side.SELL)
    reopen = Order("tenant-a", intent_id=close.intent_id, leg=1, side=Side.SELL)
    events: list[Event] = [
        close.accepted(),
        close.submitted("1"),
        close.filled(fill("c1", "110", "1")),
        reopen.submitted("1"),
        reopen.filled(fill("r1", "111", "0.4"), fill("r2", "112", "0.1"), complete=False),
        reopen.canceled("0.5"),
    ]
    await applied_through(projector, await publish(js, topology, events))
    headers = await key_for(client, js, topology, "tenant-a")
    trail = (await client.get(f"/api/v1/orders/{close.intent_id}", headers=headers)).json()
    assert trail["intent"]["status"] == "accepted"
    legs = {o["client_order_id"]: o for o in trail["orders"]}
    assert [h["status"] for h in legs[close.client_order_id]["history"]] == ["submitted", "filled"]
    second = legs[reopen.client_order_id]
    assert second["status"] == "canceled"
    assert [h["kind"] for h in second["history"]] == [
        "order.submitted",
        "order.filled",
        "order.canceled",
    ]
    assert [f["trade_id"] for f in second["fills"]] == ["r1", "r2"]
    assert second["filled_amount"] == "0.5"
    assert second["average_fill_price"] == "111.2"  # (44.4 + 11.2) / 0.5


async def test_the_trail_of_a_rejected_alert_says_why(
    client: httpx.AsyncClient, js: JetStreamContext, topology: Topology, projector: Projector
) -> None:
    order = Order("tenant-a")
    await applied_through(
        projector, await publish(js, topology, [order.accepted(), order.rejected()])
    )
    headers = await key_for(client, js, topology, "tenant-a")
    trail = (await client.get(f"/api/v1/orders/{order.intent_id}", headers=headers)).json()
    assert trail["orders"] == []
    assert trail["intent"]["status"] == "rejected"
    assert trail["intent"]["reject_reason"] == "quota_exceeded"
    assert trail["intent"]["reject_message"] == "You reached your plan's 20 orders per day."


async def test_daily_pnl_is_per_utc_day_account_and_currency(
    client: httpx.AsyncClient, alice: Headers
) -> None:
    days = (await client.get("/api/v1/pnl?account=main", headers=alice)).json()["days"]
    booked = {(d["day"], d["currency"]): (d["realized_pnl"], d["fees"], d["fills"]) for d in days}
    day1, day2 = T0.date().isoformat(), (T0 + timedelta(days=1)).date().isoformat()
    assert booked == {
        (day1, "USDT"): ("-0.05", "0.05", 2),
        (day1, "BTC"): ("0", "0.0015", 0),
        (day2, "USDT"): ("18.115", "0.22", 2),  # 18.335 - 0.22
        (day2, "BNB"): ("0", "0.01", 0),
    }
    only_day2 = await client.get(f"/api/v1/pnl?from={day2}&currency=usdt", headers=alice)
    assert [(d["day"], d["account"]) for d in only_day2.json()["days"]] == [
        (day2, "main"),
        (day2, "swing"),
    ]


async def test_tenant_a_cannot_read_tenant_b_through_any_endpoint(
    client: httpx.AsyncClient, js: JetStreamContext, topology: Topology, projector: Projector
) -> None:
    theirs = Order("tenant-b")
    last = await publish(js, topology, [*theirs.trade(fill("b-only", "100", "1"))])
    await applied_through(projector, last)
    mine = await key_for(client, js, topology, "tenant-a")
    theirs_key = await key_for(client, js, topology, "tenant-b")
    assert (await client.get("/api/v1/positions", headers=theirs_key)).json()["positions"]
    for url in ("/api/v1/positions", "/api/v1/trades", "/api/v1/pnl"):
        body = (await client.get(url, headers=mine)).json()
        assert next(iter(body.values())) == [], url
    csv_text = (await client.get("/api/v1/trades.csv", headers=mine)).text
    assert csv_text.count("\n") == 1  # the header only
    trail = await client.get(f"/api/v1/orders/{theirs.intent_id}", headers=mine)
    assert trail.status_code == 404


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("/api/v1/trades?cursor=bm90LWEtY3Vyc29y", "page cursor is not valid"),
        ("/api/v1/trades?limit=0", "limit"),
        ("/api/v1/trades?from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z", "earlier"),
        ("/api/v1/trades?from=yesterday", "from"),
        ("/api/v1/pnl?from=2026-03-02&to=2026-03-01", "must not be after"),
        ("/api/v1/orders/not-an-intent-id", "intent_id"),
    ],
)
async def test_bad_requests_are_refused_in_words(
    client: httpx.AsyncClient, js: JetStreamContext, topology: Topology, url: str, words: str
) -> None:
    headers = await key_for(client, js, topology, "tenant-a")
    response = await client.get(url, headers=headers)
    assert response.status_code == 422
    assert words in response.json()["error"]


async def test_an_unknown_alert_is_not_found(
    client: httpx.AsyncClient, js: JetStreamContext, topology: Topology
) -> None:
    headers = await key_for(client, js, topology, "tenant-a")
    response = await client.get(f"/api/v1/orders/{new_id()}", headers=headers)
    assert response.status_code == 404
    assert "No alert with id" in response.json()["error"]


async def test_requests_without_a_valid_key_are_refused(
    client: httpx.AsyncClient, js: JetStreamContext, topology: Topology
) -> None:
    await key_for(client, js, topology, "tenant-a")
    assert (await client.get("/api/v1/trades")).status_code == 401
    wrong = {"Authorization": "Bearer spk_" + "x" * 30}
    assert (await client.get("/api/v1/trades", headers=wrong)).status_code == 401
