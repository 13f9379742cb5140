"""What the web app's browser tests do again and again: sign a trader up through the pages, read
the mail, fill a TradingView template as TradingView would, and ask with a session's cookie.

The pages and ids are the ones docs/web.md names; the browser is Debian's Chromium, driven by
Playwright by its path. Screenshots go to ``SPARKY_SCREENSHOTS_DIR`` when it is set (`make
screenshots` sets docs/screenshots, which the README shows), else to a temporary directory: a
test run leaves the committed pictures alone.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

import httpx
from playwright.async_api import BrowserContext, Page

from scripts.mailbox import Mailbox
from scripts.web_demo import csrf_token
from tests.helpers.e2e_alerts import render, timenow

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(
    os.environ.get("SPARKY_SCREENSHOTS_DIR") or Path(tempfile.gettempdir()) / "sparky-screenshots"
)
# What TradingView puts in place of the placeholders of docs/alerts.md's templates.
_TRADINGVIEW = {
    "strategy.order.action": "buy",
    "strategy.order.contracts": "0.001",
    "strategy.order.id": "Long",
    "strategy.market_position": "long",
    "strategy.position_size": "0.001",
    "strategy.prev_market_position": "flat",
    "exchange": "BINANCE",
    "ticker": "BTCUSDT",
    "interval": "60",
    "close": "50000",
}


@dataclass
class Trader:
    """One trader of the test: the login, and the browser context that is signed in."""

    email: str
    password: str
    context: BrowserContext
    page: Page

    async def cookies(self) -> dict[str, str]:
        """The browser's cookies for the web app, for asking it with httpx as this trader."""
        return {c["name"]: c["value"] for c in await self.context.cookies() if "name" in c}


def new_email(who: str) -> str:
    return f"{who}-{secrets.token_hex(4)}@traders.example.com"


def filled_like_tradingview(template: str) -> str:
    """Return ``template`` (copied from a page) as TradingView sends it, placeholders filled."""
    return render(template, _TRADINGVIEW | {"timenow": timenow()})


async def sign_up(page: Page, base: str, mailbox: Mailbox, email: str, password: str) -> None:
    """Sign up at /signup, open the link of the verification mail; end signed in and verified."""
    await page.goto(f"{base}/signup")
    await page.fill("input[name=name]", "Trader " + email.split("@", maxsplit=1)[0])
    await page.fill("input[name=email]", email)
    await page.fill("input[name=password]", password)
    async with page.expect_navigation():
        await page.locator("form:has(input[name=password]) [type=submit]").click()
    mail = await asyncio.to_thread(mailbox.wait_for, email)
    link = next(u for u in mail.links() if "/verify" in u)
    await page.goto(link)
    if "/login" in page.url:  # verified, then asked to sign in
        await sign_in(page, base, email, password)


async def sign_in(page: Page, base: str, email: str, password: str) -> None:
    await page.goto(f"{base}/login")
    await page.fill("input[name=email]", email)
    await page.fill("input[name=password]", password)
    async with page.expect_navigation():
        await page.locator("form:has(input[name=password]) [type=submit]").click()


async def screenshot(page: Page, name: str) -> None:
    """Keep a picture of the page in ``SCREENSHOTS``."""
    await asyncio.to_thread(SCREENSHOTS.mkdir, parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


async def form_post(
    http: httpx.AsyncClient, path: str, data: dict[str, str], *, csrf_from: str | None = None
) -> httpx.Response:
    """POST a form as the session of ``http``; with ``csrf_from``, the CSRF token of that page."""
    if csrf_from is not None:
        page = await http.get(csrf_from)
        data = data | {"csrf_token": csrf_token(page.text)}
    return await http.post(path, data=data)


async def post_alert(url: str, body: str) -> httpx.Response:
    """POST an alert to a webhook URL, as TradingView does (JSON when it parses as JSON)."""
    try:
        json.loads(body)
        headers = {"Content-Type": "application/json"}
    except ValueError:
        headers = {"Content-Type": "text/plain"}
    async with httpx.AsyncClient(timeout=10) as http:
        return await http.post(url, content=body.encode(), headers=headers)
