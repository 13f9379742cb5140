"""The alert feed over projected events: pages, filters, one alert's trail, strategies, daily
PnL, the live stream — and never another tenant's alerts."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from nats.aio.client import Client
from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common.auth import live_authenticator
from libs.common.messages import Event, RefusalReason, Side
from libs.common.records import secret_digest
from libs.common.topology import Topology
from services.ledger.api import alerts as feed_api
from services.ledger.api import routes as api
from services.ledger.api.reads import Reads
from services.ledger.api.signals import AlertSignals
from services.ledger.config import LedgerSettings
from services.ledger.handlers.projector import Projector
from tests import factories
from tests.helpers.billing import served
from tests.helpers.ledger import T0, Order, fill, publish, strategy_story
from tests.helpers.namespaces import PgSchema
from tests.helpers.polling import eventually
from tests.integration.ledger.support import Headers, applied_through, key_for

MINUTE = timedelta(minutes=1)


def story(tenant: str) -> tuple[list[Event], dict[str, str]]:
    """Five alerts a minute apart: bought and sold (Trend), rejected, refused at the webhook,
    failed (Swing); return the events and the intent id of each by name."""
    buy = Order(tenant, strategy="Trend")
    sell = Order(tenant, side=Side.SELL, strategy="Trend")
    rejected = Order(tenant, strategy="Swing", symbol="ETH/USDT")
    failed = Order(tenant, strategy="Swing")
    refusal = factories.alert_refused(
        tenant,
        occurred_at=T0 + 3 * MINUTE,
        first_refused_at=T0 + 3 * MINUTE,
        reason=RefusalReason.IP_NOT_ALLOWED,
        status=403,
        message="This webhook does not accept alerts from 10.0.0.9 (its IP allowlist).",
    )
    events: list[Event] = [
        buy.accepted(at=T0),
        buy.submitted("1"),
        buy.filled(fill("b1", "100", "1", fee="0", at=T0 + timedelta(seconds=2))),
        sell.accepted(at=T0 + MINUTE),
        sell.submitted("1"),
        sell.filled(fill("s1", "120", "1", fee="0", at=T0 + timedelta(days=1))),
        rejected.accepted(at=T0 + 2 * MINUTE),
        rejected.rejected(),
        refusal,
        failed.accepted(at=T0 + 4 * MINUTE),
        failed.failed(),
    ]
    ids = {
        "buy": buy.intent_id,
        "sell": sell.intent_id,
        "rejected": rejected.intent_id,
        "refused": refusal.message_id,
        "failed": failed.intent_id,
    }
    return events, ids


@pytest.fixture
async def alice(
    client: httpx.AsyncClient, js: JetStreamContext, topology: Topology, projector: Projector
) -> tuple[Headers, dict[str, str], dict[str, str]]:
    """tenant-a's and tenant-b's stories projected; tenant-a's key and both tenants' ids."""
    mine, ids = story("tenant-a")
    theirs, their_ids = story("tenant-b")
    last = await publish(js, topology, [*mine, *theirs])
    await applied_through(projector, last)
    return await key_for(client, js, topology, "tenant-a"), ids, their_ids


Alice = tuple[Headers, dict[str, str], dict[str, str]]


async def _ids(client: httpx.AsyncClient, headers: Headers, **params: str) -> list[str]:
    response = await client.get("/api/v1/alerts", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return [a["intent_id"] for a in response.json()["alerts"]]


async def test_the_feed_lists_every_alert_newest_first_with_its_outcome(
    client: httpx.AsyncClient, alice: Alice
) -> None:
    headers, ids, _ = alice
    body = (await client.get("/api/v1/alerts", headers=headers)).json()
    by_id = {a["intent_id"]: a for a in body["alerts"]}
    assert [a["intent_id"] for a in body["alerts"]] == [
        ids[n] for n in ("failed", "refused", "rejected", "sell", "buy")
    ]
    assert body["next_cursor"] is None
    assert {n: by_id[ids[n]]["status"] for n in ids} == {
        "buy": "filled",
        "sell": "filled",
        "rejected": "rejected",
        "refused": "refused",
        "failed": "failed",
    }
    buy = by_id[ids["buy"]]
    assert (buy["strategy"], buy["filled_amount"], buy["average_price"]) == ("Trend", "1", "100")
    assert buy["outcome"] == "Filled on binance: buy 1 BTC/USDT at 100 on average."
    refused = by_id[ids["refused"]]
    assert (refused["reason"], refused["action"], refused["symbol"]) == (
        "ip_not_allowed",
        None,
        None,
    )
    assert "10.0.0.9" in refused["outcome"]
    assert by_id[ids["rejected"]]["reason"] == "quota_exceeded"
    assert len({a["seq"] for a in body["alerts"]}) == 5


async def test_pages_and_filters_cover_the_feed_without_gaps(
    client: httpx.AsyncClient, alice: Alice
) -> None:
    headers, ids, _ = alice
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        body = (await client.get("/api/v1/alerts", params=params, headers=headers)).json()
        seen += [a["intent_id"] for a in body["alerts"]]
        if (cursor := body["next_cursor"]) is None:
            break
    assert seen == await _ids(client, headers)
    assert await _ids(client, headers, status="filled") == [ids["sell"], ids["buy"]]
    assert await _ids(client, headers, strategy="Swing") == [ids["failed"], ids["rejected"]]
    assert await _ids(client, headers, symbol="BINANCE:ETHUSDT") == [ids["rejected"]]
    since = (T0 + MINUTE).isoformat()
    until = (T0 + 3 * MINUTE).isoformat()
    assert await _ids(client, headers, since=since, until=until) == [ids["rejected"], ids["sell"]]
    assert await _ids(client, headers, status="filled", strategy="Swing") == []


async def test_bad_filters_and_cursors_are_refused_with_a_reason(
    client: httpx.AsyncClient, alice: Alice
) -> None:
    headers, _, _ = alice
    for params in ({"status": "teleported"}, {"cursor": "not-a-cursor"}, {"limit": "0"}):
        response = await client.get("/api/v1/alerts", params=params, headers=headers)
        assert response.status_code == 422, params
        assert response.json()["error"]
    late, early = T0.isoformat(), (T0 - MINUTE).isoformat()
    response = await client.get(
        "/api/v1/alerts", params={"since": late, "until": early}, headers=headers
    )
    assert response.status_code == 422
    assert (await client.get("/api/v1/alerts")).status_code == 401


async def test_another_tenants_alerts_are_never_seen(
    client: httpx.AsyncClient, alice: Alice
) -> None:
    headers, ids, their_ids = alice
    assert set(await _ids(client, headers)) == set(ids.values())
    for intent_id in their_ids.values():
        response = await client.get(f"/api/v1/alerts/{intent_id}", headers=headers)
        assert response.status_code == 404
    strategies = (await client.get("/api/v1/strategies", headers=headers)).json()["strategies"]
    assert sum(s["alerts"] for s in strategies) == 4  # the refusal has no strategy


async def test_one_alert_shows_its_orders_fills_and_events_with_timings(
    client: httpx.AsyncClient, alice: Alice
) -> None:
    headers, ids, _ = alice
    body = (await client.get(f"/api/v1/alerts/{ids['buy']}", headers=headers)).json()
    assert body["alert"]["intent_id"] == ids["buy"]
    assert [o["status"] for o in body["orders"]] == ["filled"]
    assert [f["trade_id"] for f in body["fills"]] == ["b1"]
    assert [e["kind"] for e in body["events"]] == ["order.submitted", "order.filled"]
    assert all(isinstance(e["after_ms"], int) for e in body["events"])
    refused = (await client.get(f"/api/v1/alerts/{ids['refused']}", headers=headers)).json()
    assert (refused["alert"]["status"], refused["orders"], refused["events"]) == ("refused", [], [])


async def test_strategies_count_alerts_trades_wins_and_pnl(
    client: httpx.AsyncClient, alice: Alice
) -> None:
    headers, _, _ = alice
    body = (await client.get("/api/v1/strategies", headers=headers)).json()
    cards = {s["strategy"]: s for s in body["strategies"]}
    trend, swing = cards["Trend"], cards["Swing"]
    assert (trend["alerts"], trend["trades"], trend["wins"], trend["losses"]) == (2, 2, 1, 0)
    assert (trend["realized_pnl"], trend["currency"], trend["win_rate"]) == ("20", "USDT", 1.0)
    assert (swing["alerts"], swing["trades"], swing["win_rate"]) == (2, 0, None)
    assert swing["last_signal_at"].startswith((T0 + 4 * MINUTE).date().isoformat())


# strategy_totals in its own shape, aggregated from every alert (what the read used to do)
_FROM_SCRATCH = """
SELECT tenant_id, strategy, '' AS currency, count(*) AS alerts,
       count(*) FILTER (WHERE filled_amount > 0) AS trades,
       count(*) FILTER (WHERE realized_pnl > 0) AS wins,
       count(*) FILTER (WHERE realized_pnl < 0) AS losses, 0::numeric AS realized_pnl,
       max(received_at) AS last_signal_at
FROM {schema}.intents WHERE webhook_id IS NOT NULL AND strategy IS NOT NULL
GROUP BY tenant_id, strategy
UNION ALL
SELECT tenant_id, strategy, pnl_currency, count(*), 0, 0, 0, sum(realized_pnl), NULL
FROM {schema}.intents
WHERE webhook_id IS NOT NULL AND strategy IS NOT NULL AND pnl_currency IS NOT NULL
GROUP BY tenant_id, strategy, pnl_currency
ORDER BY 1, 2, 3
"""


async def _rows_as_text(pg_schema: PgSchema, sql: str) -> list[tuple[str, ...]]:
    conn = await asyncpg.connect(pg_schema.url)
    try:
        rows = await conn.fetch(sql.format(schema=f'"{pg_schema.name}"'))
    finally:
        await conn.close()
    return [tuple(str(v) for v in row.values()) for row in rows]


async def test_kept_strategy_figures_equal_an_aggregate_of_the_alerts_after_a_redelivery(
    client: httpx.AsyncClient,
    js: JetStreamContext,
    topology: Topology,
    projector: Projector,
    pg_schema: PgSchema,
) -> None:
    events = strategy_story("tenant-c")
    await applied_through(projector, await publish(js, topology, events[:6]))
    # the first batch delivered again (new stream messages, the same event ids), then the rest
    last = await publish(js, topology, [*events[:6], *events[6:]], twice=True)
    await applied_through(projector, last)
    kept = await _rows_as_text(pg_schema, "SELECT * FROM {schema}.strategy_totals ORDER BY 1, 2, 3")
    assert kept == await _rows_as_text(pg_schema, _FROM_SCRATCH)
    headers = await key_for(client, js, topology, "tenant-c")
    body = (await client.get("/api/v1/strategies", headers=headers)).json()
    cards = {s["strategy"]: s for s in body["strategies"]}
    assert set(cards) == {"Swing", "Trend"}  # alerts without a strategy are on no card
    trend, swing = cards["Trend"], cards["Swing"]
    assert (trend["alerts"], trend["trades"], trend["wins"], trend["losses"]) == (2, 2, 1, 0)
    assert (trend["realized_pnl"], trend["currency"]) == ("30.5", "USDT")
    assert (swing["alerts"], swing["trades"], swing["wins"], swing["losses"]) == (4, 3, 0, 2)
    assert (swing["realized_pnl"], swing["currency"]) == (None, None)  # EUR and USDT
    assert swing["realized_pnl_by_currency"]["EUR"] == "-5.1"


async def test_daily_pnl_runs_a_cumulative_total_per_strategy(
    client: httpx.AsyncClient, alice: Alice
) -> None:
    headers, _, _ = alice
    days = (await client.get("/api/v1/pnl/daily", headers=headers)).json()["days"]
    assert [(d["day"], d["realized_pnl"], d["cumulative_pnl"], d["trades"]) for d in days] == [
        (T0.date().isoformat(), "0", "0", 1),
        ((T0 + timedelta(days=1)).date().isoformat(), "20", "20", 1),
    ]
    swing = (await client.get("/api/v1/pnl/daily?strategy=Swing", headers=headers)).json()
    assert swing["days"] == []
    later = (T0 + timedelta(days=1)).date().isoformat()
    response = await client.get(
        f"/api/v1/pnl/daily?since={later}&until={T0.date()}", headers=headers
    )
    assert response.status_code == 422


@pytest.fixture
async def live(
    settings: LedgerSettings,
    engine: AsyncEngine,
    nc: Client,
    js: JetStreamContext,
    topology: Topology,
) -> AsyncIterator[str]:
    """The read API served by uvicorn (streams need a real server), its alert signals on."""
    app = FastAPI()
    api.install(app)
    app.state.reads = Reads(engine, settings.reader_role)
    signals = AlertSignals(engine, settings.schema_name, fallback_s=30)
    app.state.alert_signals = signals
    listening = asyncio.create_task(signals.run())
    try:
        async with live_authenticator(nc, js, topology) as auth, served(app) as url:
            app.state.authenticator = auth

            await eventually(lambda: signals.listening, what="the signals listening", timeout_s=10)
            yield url
    finally:
        listening.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listening


async def _next_alert(lines: AsyncIterator[str]) -> tuple[int, dict[str, object]]:
    """Read one ``alert`` event of a stream; return its id and data."""
    fields: dict[str, str] = {}
    async for line in lines:
        if line == "" and "data" in fields:
            assert fields["event"] == "alert"
            return int(fields["id"]), json.loads(fields["data"])
        if line and not line.startswith(":"):
            name, _, value = line.partition(": ")
            fields[name] = value
    raise AssertionError("the stream ended")


async def test_the_stream_pushes_a_change_within_a_second_and_resumes_after_the_last_id(
    client: httpx.AsyncClient,
    live: str,
    js: JetStreamContext,
    topology: Topology,
    projector: Projector,
) -> None:
    headers = await key_for(client, js, topology, "tenant-a")
    first, second, theirs = Order("tenant-a"), Order("tenant-a"), Order("tenant-b")
    async with (
        httpx.AsyncClient(base_url=live, timeout=10) as http,
        http.stream("GET", "/api/v1/alerts/stream", headers=headers) as stream,
    ):
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.aiter_lines()
        assert await anext(lines) == ": stream open"
        await publish(js, topology, [theirs.accepted()])  # never reaches tenant-a's stream
        started = time.monotonic()
        await publish(js, topology, [first.accepted()])
        seq, alert = await asyncio.wait_for(_next_alert(lines), 5)
        assert time.monotonic() - started < 1.0
        assert (alert["intent_id"], alert["status"]) == (first.intent_id, "received")
    last = await publish(js, topology, [first.submitted(), second.accepted()])
    await applied_through(projector, last)
    resumed = {"Last-Event-ID": str(seq), **headers}
    async with (
        httpx.AsyncClient(base_url=live, timeout=10) as http,
        http.stream("GET", "/api/v1/alerts/stream", headers=resumed) as stream,
    ):
        lines = stream.aiter_lines()
        got = [await asyncio.wait_for(_next_alert(lines), 5) for _ in range(2)]
    assert [(a["intent_id"], a["status"]) for _, a in got] == [
        (first.intent_id, "placed"),
        (second.intent_id, "received"),
    ]
    assert got[0][0] > seq
    assert got[1][0] > got[0][0]


async def test_an_idle_stream_sends_keepalive_comments(
    client: httpx.AsyncClient,
    live: str,
    js: JetStreamContext,
    topology: Topology,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(feed_api, "KEEPALIVE_S", 0.3)
    headers = await key_for(client, js, topology, "tenant-a")
    async with (
        httpx.AsyncClient(base_url=live, timeout=10) as http,
        http.stream(
            "GET", "/api/v1/alerts/stream", params={"after": "0"}, headers=headers
        ) as stream,
    ):
        lines = stream.aiter_lines()
        assert await anext(lines) == ": stream open"
        comments = [line async for line in _until(lines, ": keepalive")]
    assert comments[-1] == ": keepalive"


async def _until(lines: AsyncIterator[str], wanted: str) -> AsyncIterator[str]:
    async with asyncio.timeout(5):
        async for line in lines:
            yield line
            if line == wanted:
                return


async def test_a_stream_ends_once_its_key_is_revoked(
    client: httpx.AsyncClient,
    live: str,
    js: JetStreamContext,
    topology: Topology,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(feed_api, "RECHECK_S", 0.2)
    headers = await key_for(client, js, topology, "tenant-a")
    keys = await js.key_value(topology.api_keys_bucket)
    async with (
        httpx.AsyncClient(base_url=live, timeout=10) as http,
        http.stream("GET", "/api/v1/alerts/stream", headers=headers) as stream,
    ):
        lines = stream.aiter_lines()
        assert await anext(lines) == ": stream open"
        await keys.delete(secret_digest(headers["Authorization"].removeprefix("Bearer ")))
        async with asyncio.timeout(5):
            rest = [line async for line in lines]  # ends: the server closed the stream
    assert all(line == "" or line.startswith(":") for line in rest)
