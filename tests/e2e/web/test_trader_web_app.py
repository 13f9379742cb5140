"""A trader's first hour in a real browser, against the whole stack as `make run` starts it.

Sign up → the verification mail from the local SMTP server → verify → open a paper account →
copy the webhook URL and the TradingView template from the page → POST it as TradingView
would → the feed shows the alert filled, pushed without a reload → position and PnL on the
positions page → rotate the webhook → the old URL answers 401. A second trader sees none of
the first one's data, through the pages or, with an API key made on the API keys page, through
the ledger, billing, router and accounts APIs; forms without their session's CSRF token and
requests for another tenant's things are refused; sign-in is throttled. The screenshots the
README shows are taken here (docs/screenshots/*.png), the feed at a phone's width too.

The tests run in order and share the two traders (module fixtures): each step starts where the
one before left the trader, as a person would go on.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, ViewportSize

from scripts.devstack import Stack
from scripts.mailbox import Mailbox
from tests.helpers.browser import (
    Trader,
    filled_like_tradingview,
    form_post,
    new_email,
    post_alert,
    screenshot,
    sign_up,
)
from tests.helpers.polling import eventually

pytestmark = pytest.mark.asyncio(loop_scope="module")

SYMBOL = "BINANCE:BTCUSDT"  # the onboarding page's template trades this by default
PHONE: ViewportSize = {"width": 390, "height": 844}
FILLED_WITHIN_S = 20.0  # "within seconds": the paper exchange fills a market order at once
PROPAGATION_S = 15.0  # a rotated token reaches ingress through its KV copy
PAGES = (
    "/onboarding",
    "/alerts",
    "/positions",
    "/strategies",
    "/settings/trade",
    "/account",
    "/account/exchanges",
    "/account/api-keys",
    "/account/webhooks",
    "/account/subscription",
)


async def _trader(browser: Browser, web_url: str, mailbox: Mailbox, who: str) -> Trader:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    email, password = new_email(who), f"correct horse {who} battery"
    await sign_up(page, web_url, mailbox, email, password)
    return Trader(email=email, password=password, context=context, page=page)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def first(browser: Browser, web_url: str, mailbox: Mailbox) -> AsyncIterator[Trader]:
    trader = await _trader(browser, web_url, mailbox, "alice")
    yield trader
    await trader.context.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def second(browser: Browser, web_url: str, mailbox: Mailbox) -> AsyncIterator[Trader]:
    trader = await _trader(browser, web_url, mailbox, "bob")
    yield trader
    await trader.context.close()


@pytest.fixture(scope="module")
def seen() -> dict[str, Any]:
    """What the first trader's steps leave for the later ones (intent id, webhook URLs)."""
    return {}


async def _http(trader: Trader, web_url: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=web_url, cookies=await trader.cookies(), timeout=15)


async def _known_to_ingress(url: str) -> bool:
    # An empty object is refused as a bad alert (400) only once ingress knows the token (401
    # before): authentication comes first, and nothing is stored.
    return (await post_alert(url, "{}")).status_code == 400


async def test_sign_up_verified_through_the_mail_lands_on_onboarding(
    first: Trader, browser: Browser, web_url: str
) -> None:
    page = first.page
    await page.goto(f"{web_url}/")
    assert page.url == f"{web_url}/onboarding"  # no exchange account yet
    await screenshot(page, "onboarding")
    stranger = await browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        blank = await stranger.new_page()
        await blank.goto(f"{web_url}/signup")
        await screenshot(blank, "signup")
        await blank.goto(f"{web_url}/alerts")
        assert blank.url.startswith(f"{web_url}/login")  # not signed in: sent to sign in
    finally:
        await stranger.close()


async def test_paper_account_webhook_and_template_give_a_filled_alert_pushed_live(
    first: Trader, web_url: str, seen: dict[str, Any]
) -> None:
    page = first.page
    await page.goto(f"{web_url}/onboarding")
    await page.fill("form#paper-account input[name=label]", "paper")
    await page.locator("form#paper-account [type=submit]").click()
    webhook = page.locator("input#webhook-url")
    await webhook.wait_for(timeout=30_000)
    url = await webhook.input_value()
    template = await page.locator("textarea#alert-template-json").input_value()
    assert "/webhooks/tv/whk_" in url
    assert SYMBOL in template
    await screenshot(page, "onboarding-webhook")
    await eventually(
        lambda: _known_to_ingress(url), what="ingress to know the webhook", timeout_s=15
    )

    # The symbol's feed, empty so far (ingress may list the probes above as refused, with no
    # symbol, at any moment): its "No alerts yet" must go when the first row is pushed.
    await page.goto(f"{web_url}/alerts?symbol={SYMBOL}")
    await page.evaluate("window.sparkyNotReloaded = true")  # gone if the page reloads
    assert await page.locator("#no-alerts").is_visible()
    sent = await post_alert(url, filled_like_tradingview(template))
    assert sent.status_code == 202, sent.text
    intent = sent.json()["intent_id"]
    row = page.locator(f'table#alerts tr.alert[data-intent-id="{intent}"][data-status="filled"]')
    await row.wait_for(timeout=FILLED_WITHIN_S * 1000)
    assert await page.evaluate("window.sparkyNotReloaded === true")  # pushed, not reloaded
    assert "filled" in (await row.inner_text()).lower()
    assert await page.locator("#no-alerts").is_hidden()  # the empty state left with the row
    await page.goto(f"{web_url}/alerts")
    await screenshot(page, "alerts")
    await _phone_screenshot(page, f"{web_url}/alerts", "alerts-phone")
    await page.goto(f"{web_url}/alerts/{intent}")
    await screenshot(page, "alert-trail")
    seen |= {"intent_id": intent, "webhook_url": url, "template": template}


async def _phone_screenshot(page: Page, url: str, name: str) -> None:
    """Take ``url`` as a phone shows it (390 px wide): nothing may need sideways scrolling."""
    desktop = page.viewport_size
    await page.set_viewport_size(PHONE)
    try:
        await page.goto(url)
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{url} is {width} px wide on a phone"
        await screenshot(page, name)
    finally:
        if desktop is not None:
            await page.set_viewport_size(desktop)


async def test_the_position_and_its_pnl_are_on_the_positions_page(
    first: Trader, web_url: str
) -> None:
    page = first.page
    await page.goto(f"{web_url}/positions")
    positions = page.locator("table#positions")
    assert "BTC" in await positions.inner_text()
    assert await page.locator("svg#pnl-chart").count() == 1
    assert await page.locator("a#trades-csv").count() == 1
    await screenshot(page, "positions")
    pages = (
        ("/strategies", "strategies"),
        ("/settings/trade", "trade-settings"),
        ("/account/notifications", "notifications"),
    )
    for path, name in pages:
        answer = await page.goto(f"{web_url}{path}")
        assert answer is not None
        assert answer.status == 200, path
        await screenshot(page, name)


async def test_a_rotated_webhooks_old_url_answers_401(
    first: Trader, web_url: str, seen: dict[str, Any]
) -> None:
    page = first.page
    await page.goto(f"{web_url}/account/webhooks")
    await screenshot(page, "webhooks")
    hook = page.locator("section.webhook[data-webhook-id]").first
    seen["webhook_id"] = await hook.get_attribute("data-webhook-id")
    rotate = hook.locator("form.rotate-form")
    await rotate.locator("select[name=grace_seconds]").select_option("0")  # old URL ends now
    async with page.expect_navigation():
        await rotate.locator("[type=submit]").click()
    new = await page.locator("input#new-webhook-url").input_value()
    old = seen["webhook_url"]
    assert new != old
    assert "/webhooks/tv/whk_" in new

    async def old_refused() -> bool:
        return (await post_alert(old, "{}")).status_code == 401

    await eventually(
        old_refused, what="ingress to refuse the rotated-out token", timeout_s=PROPAGATION_S
    )
    await eventually(
        lambda: _known_to_ingress(new), what="ingress to know the new token", timeout_s=15
    )
    sent = await post_alert(new, filled_like_tradingview(seen["template"]))
    assert sent.status_code == 202
    await page.goto(f"{web_url}/onboarding")
    assert await page.locator("input#webhook-url").input_value() == new  # kept, shown again
    seen["new_webhook_url"] = new


async def test_a_second_trader_sees_none_of_the_first_ones_data(
    first: Trader, second: Trader, web_url: str, seen: dict[str, Any]
) -> None:
    intent, token = seen["intent_id"], seen["new_webhook_url"].rsplit("/", 1)[-1]
    page: Page = second.page
    for path in PAGES:
        answer = await page.goto(f"{web_url}{path}")
        assert answer is not None
        assert answer.status == 200, path
        html = await page.content()
        for secret in (intent, token, first.email, seen["webhook_id"]):
            assert secret not in html, f"{path} shows the first trader's {secret}"
    trail = await page.goto(f"{web_url}/alerts/{intent}")
    assert trail is not None
    assert trail.status == 404
    assert await page.locator(f'tr.alert[data-intent-id="{intent}"]').count() == 0
    await page.goto(f"{web_url}/positions")
    href = await page.locator("a#trades-csv").get_attribute("href")
    assert href
    async with await _http(second, web_url) as http:
        csv = await http.get(href)
    assert csv.status_code == 200
    assert intent not in csv.text
    assert "BTC" not in csv.text  # the second trader has traded nothing


async def test_forms_without_the_sessions_csrf_token_and_other_tenants_things_are_refused(
    first: Trader, second: Trader, web_url: str, seen: dict[str, Any]
) -> None:
    async with await _http(second, web_url) as bob, await _http(first, web_url) as alice:
        assert (await form_post(bob, "/logout", {})).status_code == 403  # no token at all
        alices = await alice.get("/account/webhooks")
        stolen = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', alices.text)
        assert stolen
        borrowed = {"csrf_token": stolen.group(1)}
        assert (await bob.post("/logout", data=borrowed)).status_code == 403  # not bob's
        assert (await bob.get("/alerts")).status_code == 200  # still signed in
        alices_hook = {"webhook_id": seen["webhook_id"], "grace_seconds": "0"}
        for action in ("/account/webhooks/rotate", "/account/webhooks/revoke"):
            answer = await form_post(bob, action, alices_hook, csrf_from="/account/webhooks")
            assert answer.status_code in (403, 404), (action, answer.status_code)
    assert await _known_to_ingress(seen["new_webhook_url"])  # alice's webhook untouched


async def test_a_second_traders_api_key_reaches_none_of_the_first_ones_data(
    first: Trader, second: Trader, web_url: str, web_stack: Stack, seen: dict[str, Any]
) -> None:
    page = second.page
    await page.goto(f"{web_url}/account/api-keys")
    await page.fill("form#new-api-key input[name=label]", "my script")
    async with page.expect_navigation():
        await page.locator("form#new-api-key [type=submit]").click()
    key = await page.locator("input#shown-key").input_value()
    assert key.startswith("spk_")
    await page.goto(f"{web_url}/account/api-keys")
    assert await page.locator("input#shown-key").count() == 0  # shown once
    assert key not in await page.content()
    own_intent = await _second_traders_own_alert(page, web_url)
    firsts = (seen["intent_id"], first.email, seen["webhook_id"], seen["new_webhook_url"])
    intent = seen["intent_id"]
    url = web_stack.cfg.url
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(headers=headers, timeout=15) as api:
        bodies = []
        for service, path, status in (
            ("ledger", "/api/v1/strategies", 200),  # its own alert's, if any
            ("ledger", f"/api/v1/alerts/{intent}", 404),
            ("ledger", f"/api/v1/orders/{intent}", 404),
            ("accounts", "/api/v1/exchange-accounts/paper", 404),  # the first trader's label
        ):
            answer = await api.get(url(service) + path)
            assert answer.status_code == status, (service, path, answer.status_code)
            if status == 200:  # a 404 repeats the id asked for
                bodies.append(answer.text)
        alerts = await api.get(url("ledger") + "/api/v1/alerts")
        listed = {a["intent_id"] for a in alerts.json()["alerts"]}
        assert own_intent in listed  # its own (and the refused probes of its webhook) only
        bodies.append(alerts.text)
        empty = (
            ("ledger", "/api/v1/positions", "positions"),
            ("ledger", "/api/v1/trades", "trades"),
            ("router", "/api/v1/settings", "layers"),
            ("accounts", "/api/v1/exchange-accounts", "accounts"),
        )
        for service, path, field in empty:
            answer = await api.get(url(service) + path)
            assert answer.status_code == 200, (service, path, answer.status_code)
            assert answer.json()[field] == [], (service, path)
            bodies.append(answer.text)
        hooks = await api.get(url("billing") + "/api/v1/webhooks")
        assert hooks.status_code == 200
        assert seen["webhook_id"] not in {h["webhook_id"] for h in hooks.json()}
        change = {"label": "taken over"}
        stolen = await api.patch(
            url("billing") + f"/api/v1/webhooks/{seen['webhook_id']}", json=change
        )
        assert stolen.status_code == 404
        bodies += [hooks.text, await _streamed_until(api, url("ledger"), own_intent)]
    for body in bodies:
        for secret in firsts:
            assert secret not in body


async def _second_traders_own_alert(page: Page, web_url: str) -> str:
    """The second trader sends an alert to their own webhook (no exchange account: the router
    rejects it); return its intent id."""
    await page.goto(f"{web_url}/onboarding")
    hook = await page.locator("input#webhook-url").input_value()
    template = await page.locator("textarea#alert-template-json").input_value()
    await eventually(
        lambda: _known_to_ingress(hook), what="ingress to know the webhook", timeout_s=15
    )
    sent = await post_alert(hook, filled_like_tradingview(template))
    assert sent.status_code == 202, sent.text
    intent: str = sent.json()["intent_id"]
    return intent


async def _streamed_until(api: httpx.AsyncClient, ledger: str, intent: str) -> str:
    """The ledger's stream of the key's tenant from its first change (``after=0``), read until
    the change of ``intent`` arrives; return everything it sent by then."""
    seen_text = []
    params = {"after": "0"}
    async with asyncio.timeout(FILLED_WITHIN_S):
        async with api.stream("GET", ledger + "/api/v1/alerts/stream", params=params) as stream:
            assert stream.status_code == 200
            async for line in stream.aiter_lines():
                seen_text.append(line)
                if line.startswith("data:") and intent in line:
                    break
    return "\n".join(seen_text)


async def test_sign_in_is_throttled_after_repeated_failures(first: Trader, web_url: str) -> None:
    async with httpx.AsyncClient(base_url=web_url, timeout=15) as http:
        wrong = {"email": first.email, "password": "not the password"}
        for _ in range(5):
            refused = await form_post(http, "/login", wrong, csrf_from="/login")
            assert not (refused.is_redirect and "/login" not in refused.headers["location"])
        right = {"email": first.email, "password": first.password}
        throttled = await form_post(http, "/login", right, csrf_from="/login")
        assert throttled.status_code in (200, 429), throttled.status_code
        assert not throttled.is_redirect  # the right password does not get in while throttled
        assert (await http.get("/alerts")).headers.get("location", "").startswith("/login")
