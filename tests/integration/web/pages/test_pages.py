"""The signed-in pages against the real services: they render, their forms change what they
say, a form without its CSRF token changes nothing, and one trader sees nothing of another's.
"""

from __future__ import annotations

import re
import socket
from html import unescape

import httpx
import pytest

from scripts.devstack import Stack
from tests.helpers.e2e_alerts import settled_trail
from tests.helpers.web_pages import (
    Signed,
    Web,
    csrf_of,
    post_form,
    running_web,
    web_settings_for,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

PAGES = (
    "/onboarding",
    "/positions",
    "/settings/trade",
    "/account",
    "/account/exchanges",
    "/account/api-keys",
    "/account/webhooks",
    "/account/subscription",
)
FILL_WAIT_S = 60.0


def _value_of(html: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}"[^>]*value="([^"]*)"', html) or re.search(
        rf'value="([^"]*)"[^>]*id="{element_id}"', html
    )
    assert found, f"no #{element_id} with a value on the page"
    return unescape(found.group(1))


def _textarea(html: str, element_id: str) -> str:
    found = re.search(rf'<textarea id="{element_id}"[^>]*>(.*?)</textarea>', html, re.S)
    assert found, f"no textarea#{element_id}"
    return unescape(found.group(1))


async def test_every_page_renders_for_a_signed_in_trader(ann: Signed) -> None:
    for page in PAGES:
        response = await ann.browser.get(page)
        assert response.status_code == 200, f"{page}: {response.status_code} {response.text[:300]}"
        assert 'name="csrf_token"' in response.text, page
    home = await ann.browser.get("/")
    assert home.status_code == 303
    assert home.headers["location"] == "/alerts"  # ann has an exchange account


async def test_a_browser_without_a_session_is_sent_to_sign_in(web: Web) -> None:
    async with httpx.AsyncClient(base_url=web.url) as anonymous:
        response = await anonymous.get("/positions")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


async def test_onboarding_shows_the_webhook_url_and_templates_for_the_chosen_symbol(
    ann: Signed, stack: Stack
) -> None:
    query = {"symbol": "BINANCE:ETHUSDT", "sizing": "quote", "amount": "50", "strategy": "EMA"}
    html = (await ann.browser.get("/onboarding", params=query)).text
    assert _value_of(html, "webhook-url") == ann.trader.webhook_url
    assert '"ticker": "BINANCE:ETHUSDT"' in _textarea(html, "alert-template-json")
    assert _textarea(html, "alert-template-text") == (
        "buy BINANCE:ETHUSDT 50 quantity_type=quote strategy=EMA time={{timenow}}"
    )
    assert 'id="paper-account"' in (await ann.browser.get("/onboarding?venue=paper")).text
    assert 'id="exchange-keys"' in (await ann.browser.get("/onboarding?venue=binance")).text


async def test_send_test_alert_reaches_ingress_and_fills(ann: Signed, stack: Stack) -> None:
    response = await post_form(
        ann.browser,
        "/onboarding",
        "/onboarding/test-alert",
        {
            "webhook_id": ann.webhook_id,
            "symbol": "BINANCE:BTCUSDT",
            "sizing": "base",
            "amount": "0.001",
        },
    )
    assert response.status_code == 200, response.text[:500]
    found = re.search(r'href="/alerts/([0-9A-Z]{26})"', response.text)
    assert found, "the page links the alert it sent"
    intent_id = found.group(1)
    async with httpx.AsyncClient(timeout=30) as client:
        trail = await settled_trail(client, stack.cfg, ann.trader, intent_id, FILL_WAIT_S)
    assert [o["status"] for o in trail["orders"]] == ["filled"]
    positions = (await ann.browser.get("/positions")).text
    assert 'data-symbol="BTC/USDT"' in positions
    assert 'id="pnl-chart"' in positions


async def test_a_post_without_its_csrf_token_is_refused_and_changes_nothing(
    ann: Signed, stack: Stack
) -> None:
    response = await ann.browser.post("/settings/trade/kill-switch", data={"enabled": "0"})
    assert response.status_code == 403
    forged = await ann.browser.post(
        "/account/webhooks", data={"label": "forged", "csrf_token": "not-the-token"}
    )
    assert forged.status_code == 403
    async with httpx.AsyncClient() as client:
        hooks = await client.get(
            f"{stack.cfg.url('billing')}/api/v1/webhooks", headers=ann.trader.auth
        )
        layer = await client.get(
            f"{stack.cfg.url('router')}/api/v1/settings/tenant", headers=ann.trader.auth
        )
    assert "forged" not in {h["label"] for h in hooks.json()}
    assert layer.status_code == 404 or layer.json()["settings"].get("enabled") is not False


async def test_kill_switch_stops_and_resumes_trading(ann: Signed, stack: Stack) -> None:
    async def enabled() -> object:
        async with httpx.AsyncClient() as client:
            found = await client.get(
                f"{stack.cfg.url('router')}/api/v1/settings/tenant", headers=ann.trader.auth
            )
        return found.json()["settings"].get("enabled")

    stopped = await post_form(
        ann.browser, "/settings/trade", "/settings/trade/kill-switch", {"enabled": "0"}
    )
    assert stopped.status_code == 303
    assert await enabled() is False
    page = (await ann.browser.get(stopped.headers["location"])).text
    assert 'data-enabled="false"' in page
    resumed = await post_form(
        ann.browser, "/settings/trade", "/settings/trade/kill-switch", {"enabled": "1"}
    )
    assert resumed.status_code == 303
    assert await enabled() is True


async def test_webhook_create_rotate_and_revoke(ann: Signed, stack: Stack) -> None:
    created = await post_form(
        ann.browser, "/account/webhooks", "/account/webhooks", {"label": "swing", "allowed_ips": ""}
    )
    assert created.status_code == 200
    first_url = _value_of(created.text, "new-webhook-url")
    webhook_id = re.search(r'id="new-webhook-url"[^>]*data-webhook-id="([^"]+)"', created.text)
    assert webhook_id
    hook = webhook_id.group(1)
    rotated = await post_form(
        ann.browser,
        "/account/webhooks",
        "/account/webhooks/rotate",
        {"webhook_id": hook, "grace_seconds": "0"},
    )
    assert rotated.status_code == 200
    second_url = _value_of(rotated.text, "new-webhook-url")
    assert second_url != first_url
    async with httpx.AsyncClient() as client:
        old = await client.post(first_url, content="buy BINANCE:BTCUSDT 0.001")
        assert old.status_code == 401
        revoked = await post_form(
            ann.browser, "/account/webhooks", "/account/webhooks/revoke", {"webhook_id": hook}
        )
        assert revoked.status_code == 303
        gone = await client.post(second_url, content="buy BINANCE:BTCUSDT 0.001")
        assert gone.status_code == 401


async def test_an_api_key_is_shown_once_and_works(ann: Signed, stack: Stack) -> None:
    created = await post_form(
        ann.browser, "/account/api-keys", "/account/api-keys", {"label": "bot"}
    )
    assert created.status_code == 200
    key = _value_of(created.text, "shown-key")
    async with httpx.AsyncClient() as client:
        me = await client.get(
            f"{stack.cfg.url('billing')}/api/v1/account", headers={"Authorization": f"Bearer {key}"}
        )
    assert me.json()["tenant_id"] == ann.trader.tenant_id
    assert key not in (await ann.browser.get("/account/api-keys")).text


async def test_the_key_the_app_uses_cannot_be_revoked_from_the_page(ann: Signed) -> None:
    page = (await ann.browser.get("/account/api-keys")).text
    assert "used by this web app" in page


async def test_adding_live_keys_without_two_factor_is_refused_with_a_way_forward(
    ann: Signed,
) -> None:
    response = await post_form(
        ann.browser,
        "/account/exchanges",
        "/account/exchanges/keys",
        {
            "venue": "binance",
            "label": "live",
            "mode": "live",
            "market_type": "spot",
            "api_key": "k" * 16,
            "secret": "s" * 16,
        },
    )
    assert response.status_code == 400
    assert "two-factor" in response.text
    assert 'href="/security"' in response.text


async def test_the_subscription_says_the_plan_and_standing_in_words(ann: Signed) -> None:
    page = (await ann.browser.get("/account/subscription")).text
    assert "You are on the pro plan, in good standing." in page


async def test_a_second_trader_sees_none_of_the_first_ones_data(
    ann: Signed, ben: Signed, stack: Stack
) -> None:
    ann_pages = {p: (await ann.browser.get(p)).text for p in ("/account/webhooks", "/onboarding")}
    ben_pages = {p: (await ben.browser.get(p)).text for p in PAGES}
    ann_token = ann.trader.webhook_token
    assert ann_token in ann_pages["/onboarding"]
    for page, html in ben_pages.items():
        assert ann_token not in html, page
        assert ann.trader.tenant_id not in html, page
        assert ann.webhook_id not in html, page
    other = await ben.browser.post(
        "/account/webhooks/revoke",
        data={"webhook_id": ann.webhook_id, "csrf_token": csrf_of(ben_pages["/account/webhooks"])},
    )
    assert other.status_code == 404
    still = await ann.browser.get("/onboarding")
    assert ann_token in still.text


async def test_a_service_that_is_down_gives_a_503_page_in_words(ann: Signed, stack: Stack) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{closed.getsockname()[1]}"  # bound, never listening
        settings = web_settings_for(stack.cfg, ledger_url=dead)
        async with (
            running_web(settings) as (_app, url),
            httpx.AsyncClient(base_url=url, cookies=ann.browser.cookies) as browser,
        ):  # the same database: ann's session opens this app too
            response = await browser.get("/positions")
            working = await browser.get("/account")
    assert response.status_code == 503
    assert "The ledger service is temporarily unavailable." in response.text
    assert "Traceback" not in response.text
    assert working.status_code == 200
