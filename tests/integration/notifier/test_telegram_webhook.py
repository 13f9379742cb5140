"""The bot in webhook mode, and the Telegram routes of the tenant API, in process on real NATS
and Postgres: Telegram is told where to POST (with the secret token), only a request carrying
that token is taken, each update once; signal sources refuse what is not a Sparky webhook."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from pydantic import SecretStr

from services.notifier.app import create_app, running
from services.notifier.config import NotifierSettings, TelegramMode
from tests.helpers import telegram_updates as tg
from tests.helpers.notifier import StandIns
from tests.helpers.polling import eventually
from tests.helpers.telegram_api import BOT_USERNAME, TelegramApiStandIn

TOKEN = "777:webhook-mode-token"
SECRET = "webhook-secret-token_123"
PUBLIC = "https://sparky.example.com"
HOOK = "/telegram/webhook"


@dataclass
class Hooked:
    api: httpx.AsyncClient  # as the tenant
    telegram: TelegramApiStandIn


@pytest.fixture
async def hooked(settings: NotifierSettings, stand_ins: StandIns) -> AsyncIterator[Hooked]:
    async with TelegramApiStandIn(TOKEN) as telegram:
        configured = settings.model_copy(
            update={
                "billing_url": stand_ins.billing.url,
                "telegram_bot_token": SecretStr(TOKEN),
                "telegram_api_url": telegram.base_url,
                "telegram_bot_username": BOT_USERNAME,
                "telegram_mode": TelegramMode.WEBHOOK,
                "telegram_webhook_secret": SecretStr(SECRET),
                "telegram_webhook_url": PUBLIC,
            }
        )
        _tenant_id, key = await stand_ins.billing.new_tenant()
        app = create_app(configured)
        async with running(app, configured):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport,
                base_url="http://notifier",
                headers={"Authorization": f"Bearer {key}"},
            ) as api:
                await eventually(
                    lambda: _known(api), what="the notifier knowing the key", timeout_s=10
                )
                yield Hooked(api, telegram)


async def _known(api: httpx.AsyncClient) -> bool:
    return (await api.get("/api/v1/notifications/signal-sources")).status_code == 200


async def _as_telegram(h: Hooked, update: dict[str, object], secret: str | None) -> int:
    headers = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
    resp = await h.api.post(HOOK, json=update, headers=headers)
    return resp.status_code


async def test_webhook_mode_registers_the_webhook_and_takes_only_signed_updates_once(
    hooked: Hooked,
) -> None:
    h = hooked
    await eventually(lambda: _registered(h), what="the Telegram webhook registered", timeout_s=10)
    assert h.telegram.state.webhook_url == PUBLIC + HOOK
    assert h.telegram.state.webhook_secret == SECRET
    link = (await h.api.post("/api/v1/notifications/channels/telegram")).json()["link"]
    start = {"update_id": 9001, **tg.private_message(81, "/start " + link.split("start=")[1])}
    assert await _as_telegram(h, start, None) == 401
    assert await _as_telegram(h, start, "not-the-secret") == 401
    assert h.telegram.sent_to(81) == []
    assert await _as_telegram(h, start, SECRET) == 200
    assert await _as_telegram(h, start, SECRET) == 200  # Telegram resending it
    assert [m.text.split(":")[0] for m in h.telegram.sent_to(81)] == ["Linked (@u81)"]
    assert h.telegram.state.get_updates_calls == 0
    channels = (await h.api.get("/api/v1/notifications/channels")).json()["channels"]
    assert [(c["kind"], c["status"], c["target"]) for c in channels] == [
        ("telegram", "active", "@u81")
    ]
    assert await _as_telegram(h, {"not": "an update"}, SECRET) == 400
    listed = await h.api.post(
        HOOK, json=[1, 2], headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
    )
    assert listed.status_code == 400


async def _registered(h: Hooked) -> bool:
    return bool(h.telegram.state.webhook_url)


async def test_signal_sources_take_sparky_webhooks_only_and_can_be_removed(
    hooked: Hooked,
) -> None:
    api = hooked.api
    refused = await api.post(
        "/api/v1/notifications/signal-sources", json={"webhook_url": "https://x.test/other"}
    )
    assert refused.status_code == 422, refused.text
    url = "https://hooks.sparky.test/webhooks/tv/whk_secretTokenValue123"
    made = await api.post("/api/v1/notifications/signal-sources", json={"webhook_url": url})
    assert made.status_code == 201, made.text
    body = made.json()
    assert "secretTokenValue123" not in made.text
    assert body["status"] == "pending"
    assert body["claim"].startswith("/signals ")
    listed = (await api.get("/api/v1/notifications/signal-sources")).json()["signal_sources"]
    assert [s["id"] for s in listed] == [body["id"]]
    assert "claim" not in listed[0]
    gone = await api.delete(f"/api/v1/notifications/signal-sources/{body['id']}")
    assert gone.status_code == 204
    again = await api.delete(f"/api/v1/notifications/signal-sources/{body['id']}")
    assert again.status_code == 404
