"""The pages built on the alert feed (ledger), self-service paper accounts (accounts API) and
paused strategies (router): the feed and its live rows, the trail, strategy cards and their
pause, a paper account opened from onboarding, the trades as CSV.
"""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest

from scripts.devstack import Stack
from tests.helpers.e2e_alerts import accepted, settled_trail, timenow
from tests.helpers.polling import eventually
from tests.helpers.web_pages import Signed, post_form

pytestmark = pytest.mark.asyncio(loop_scope="module")
WAIT_S = 60.0
STREAM_WAIT_S = 20.0


async def _filled_alert(ann: Signed, stack: Stack, strategy: str) -> str:
    body = f"buy BINANCE:BTCUSDT 0.001 strategy={strategy} time={timenow()}"
    async with httpx.AsyncClient(timeout=30) as client:
        intent_id = await accepted(client, ann.trader, body)
        trail = await settled_trail(client, stack.cfg, ann.trader, intent_id, WAIT_S)
    assert [o["status"] for o in trail["orders"]] == ["filled"]
    return intent_id


async def _feed_row(browser: httpx.AsyncClient, intent_id: str, **query: str) -> str | None:
    html = (await browser.get("/alerts", params=query)).text
    found = re.search(rf'<tr id="alert-{intent_id}"[^>]*data-status="([a-z_]+)"', html)
    return found.group(1) if found else None


async def test_the_feed_shows_a_filled_alert_with_filters_and_its_trail(
    ann: Signed, ben: Signed, stack: Stack
) -> None:
    intent_id = await _filled_alert(ann, stack, "Feed")

    async def shown_filled() -> bool:
        return await _feed_row(ann.browser, intent_id) == "filled"

    await eventually(
        shown_filled, what="the alert shown filled in the feed", timeout_s=WAIT_S, interval_s=0.2
    )
    assert await _feed_row(ann.browser, intent_id, status="filled") == "filled"
    assert await _feed_row(ann.browser, intent_id, status="refused") is None
    assert await _feed_row(ann.browser, intent_id, strategy="Other") is None
    trail = await ann.browser.get(f"/alerts/{intent_id}")
    assert trail.status_code == 200
    assert 'id="orders"' in trail.text
    assert 'data-status="filled"' in trail.text
    assert await _feed_row(ben.browser, intent_id) is None
    assert (await ben.browser.get(f"/alerts/{intent_id}")).status_code == 404


async def test_the_stream_pushes_a_new_alert_as_a_rendered_row(ann: Signed, stack: Stack) -> None:
    seen: list[str] = []

    async def listen() -> None:
        async with ann.browser.stream("GET", "/alerts/stream") as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            async for line in response.aiter_lines():
                seen.append(line)
                if line.startswith("data: <tr") and 'data-status="filled"' in line:
                    return

    listener = asyncio.create_task(listen())
    await eventually(
        lambda: seen, what="the first event of the stream", timeout_s=STREAM_WAIT_S, interval_s=0.2
    )
    intent_id = await _filled_alert(ann, stack, "Live")
    await asyncio.wait_for(listener, STREAM_WAIT_S)
    rows = [line for line in seen if f'data-intent-id="{intent_id}"' in line]
    assert rows, "the stream sent the alert's row"
    assert "event: alert" in seen


async def test_a_strategy_card_pauses_and_resumes_the_strategy(ann: Signed, stack: Stack) -> None:
    await _filled_alert(ann, stack, "Swing")
    page = (await ann.browser.get("/strategies")).text
    assert 'data-strategy="Swing"' in page

    async def paused() -> list[str]:
        async with httpx.AsyncClient() as client:
            found = await client.get(
                f"{stack.cfg.url('router')}/api/v1/settings/tenant", headers=ann.trader.auth
            )
        return list(found.json()["settings"].get("paused_strategies") or [])

    done = await post_form(
        ann.browser, "/strategies", "/strategies/pause", {"strategy": "Swing", "pause": "1"}
    )
    assert done.status_code == 303
    assert await paused() == ["Swing"]
    card = (await ann.browser.get("/strategies")).text
    assert re.search(r'data-strategy="Swing".*?Resume', card, re.S)
    await post_form(
        ann.browser, "/strategies", "/strategies/pause", {"strategy": "Swing", "pause": "0"}
    )
    assert await paused() == []


async def test_onboarding_opens_a_paper_account(ben: Signed, stack: Stack) -> None:
    opened = await post_form(ben.browser, "/onboarding", "/onboarding/paper", {"label": "practice"})
    assert opened.status_code == 303, opened.text[:500]
    async with httpx.AsyncClient() as client:
        found = await client.get(
            f"{stack.cfg.url('accounts')}/api/v1/exchange-accounts/practice",
            headers=ben.trader.auth,
        )
    assert found.json()["status"] == "valid"
    again = await post_form(ben.browser, "/onboarding", "/onboarding/paper", {"label": "practice"})
    assert again.status_code == 409
    assert 'class="error"' in again.text


async def test_trades_download_as_csv(ann: Signed, stack: Stack) -> None:
    await _filled_alert(ann, stack, "Csv")
    response = await ann.browser.get("/positions/trades.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    lines = response.text.splitlines()
    assert len(lines) >= 2
    assert "BTC/USDT" in response.text
