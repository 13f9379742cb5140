"""The web app in-process in front of a running stack, and traders signed in to it.

`running_web` serves the app (its lifespan run: migrations, HTTP client) on a free port;
`signed_in_browser` gives a trader made by `tests.helpers.pipeline.provision` a web user (its
sealed API key and webhook token, as sign-up leaves them) and a session cookie, and returns an
HTTP client that browses as them. Pages are read as HTML; `csrf_of` finds a form's token.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from html import unescape

import httpx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from libs.common.config import load_settings
from scripts.devstack import StackConfig
from services.web.app import create_app
from services.web.config import WebSettings
from services.web.session import SESSION_COOKIE
from services.web.store import users, webhook_tokens_kept
from services.web.tenant_keys import api_key_context, webhook_token_context
from tests.helpers.billing import served
from tests.helpers.pipeline import Trader

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def web_settings_for(cfg: StackConfig, **overrides: str) -> WebSettings:
    """The web app's settings for the stack ``cfg``: its services, its own schema."""
    values: dict[str, object] = {
        "environment": "dev",
        "namespace": cfg.namespace,
        "database_url": cfg.infra.database_url,
        "database_schema": cfg.schema("web"),
        "database_pool_size": 3,
        "billing_url": cfg.url("billing"),
        "router_url": cfg.url("router"),
        "ledger_url": cfg.url("ledger"),
        "accounts_url": cfg.url("accounts"),
        "ingress_url": cfg.url("ingress"),
        "notifier_url": cfg.url("notifier"),  # nothing answers there unless the test starts it
        "webhook_base_url": cfg.url("ingress"),
    }
    if cfg.infra.migration_database_url:
        values["migration_database_url"] = cfg.infra.migration_database_url
    return load_settings(WebSettings, **(values | overrides))


@asynccontextmanager
async def running_web(settings: WebSettings) -> AsyncIterator[tuple[FastAPI, str]]:
    """Serve the web app; yield it and its base URL."""
    app = create_app(settings)
    async with (
        LifespanManager(app, startup_timeout=30, shutdown_timeout=20),
        served(app) as url,
    ):
        yield app, url


@dataclass(frozen=True)
class Web:
    """The web app served in a test, and its base URL."""

    app: FastAPI
    url: str


@dataclass(frozen=True)
class Signed:
    """A trader, its first webhook's id, and a browser signed in as them."""

    trader: Trader
    webhook_id: str
    browser: httpx.AsyncClient


@dataclass(frozen=True)
class WebUser:
    user_id: str
    email: str
    trader: Trader
    webhook_id: str


async def add_user(app: FastAPI, trader: Trader, webhook_id: str) -> WebUser:
    """A verified web user of ``trader``'s tenant, as sign-up leaves one."""
    user_id = secrets.token_hex(16)
    email = f"{trader.name}-{user_id[:6]}@example.test"
    box, now = app.state.runtime.data_box, app.state.runtime.clock()
    row = {
        "user_id": user_id,
        "email": email,
        "email_key": email,
        "name": trader.name,
        "password_hash": "not-used-here",
        "created_at": now,
        "verified_at": now,
        "tenant_id": trader.tenant_id,
        "api_key_sealed": box.seal(trader.api_key, api_key_context(user_id)),
        "totp_enabled": False,
    }
    kept = {
        "user_id": user_id,
        "webhook_id": webhook_id,
        "token_sealed": box.seal(trader.webhook_token, webhook_token_context(user_id, webhook_id)),
        "kept_at": now,
    }
    async with app.state.runtime.db.as_user(user_id) as conn:
        await conn.execute(users.insert().values(row))
        await conn.execute(webhook_tokens_kept.insert().values(kept))
    return WebUser(user_id, email, trader, webhook_id)


@asynccontextmanager
async def signed_in_browser(
    app: FastAPI, url: str, trader: Trader, webhook_id: str
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client browsing the app as a new web user of ``trader``'s tenant."""
    user = await add_user(app, trader, webhook_id)
    token = await app.state.runtime.sessions.open(user.user_id)
    async with httpx.AsyncClient(
        base_url=url, cookies={SESSION_COOKIE: token}, timeout=30
    ) as client:
        yield client


def csrf_of(html: str) -> str:
    """The CSRF token of the page's forms."""
    found = _CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return unescape(found.group(1))


async def post_form(
    browser: httpx.AsyncClient, page: str, action: str, data: dict[str, str]
) -> httpx.Response:
    """Open ``page`` and post ``data`` to ``action`` with the page's CSRF token."""
    html = (await browser.get(page)).text
    return await browser.post(action, data={"csrf_token": csrf_of(html), **data})
