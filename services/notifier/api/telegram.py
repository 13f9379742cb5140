"""The bot's HTTP routes: signal sources (tenant API) and Telegram's webhook (webhook mode).

Signal sources: ``POST /api/v1/notifications/signal-sources {"webhook_url"}`` keeps the
webhook's token sealed and answers a one-time ``claim`` (``/signals <code>``, 15 minutes);
posted in a channel or group the bot is in, it maps that chat to the webhook. ``GET`` lists,
``DELETE /{id}`` removes. ``POST /telegram/webhook`` takes Telegram's updates when the bot runs
in webhook mode, only with the secret token Telegram was given.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Header, HTTPException, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field, SecretStr
from telegram import Update

from libs.common import api
from libs.common.auth import CurrentTenant
from libs.common.messages.types import SecretText
from services.notifier.api.channels import caller_key
from services.notifier.bot.signals import masked, token_of
from services.notifier.bot.telegram import TelegramBot
from services.notifier.errors import ChannelOffError, UpstreamError
from services.notifier.keys import ensure_kept_key
from services.notifier.runtime import Runtime
from services.notifier.store import telegram as store
from services.notifier.store.channels import code_digest
from services.notifier.store.tables import link_codes

sources = APIRouter(
    prefix="/api/v1/notifications/signal-sources",
    tags=["telegram signal sources"],
    responses=api.answers(401, 403, 503),
)
webhook = APIRouter(tags=["telegram"])
linking = APIRouter(
    prefix="/api/v1/notifications/channels",
    tags=["notifier"],
    responses=api.answers(401, 403, 503),
)
SourceId = Annotated[str, Field(pattern=r"^[0-9A-HJKMNP-TV-Z]{26}$")]


class SourceIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "webhook_url": "https://hooks.example.com/webhooks/tv/whk_3q2FzY8c1Xo0b7Lr5N9tKp4JvW6mHs2AeD8gUqRiTyE"
                }
            ]
        },
    )

    webhook_url: SecretText = Field(
        description="The Sparky webhook URL posts go to (…/webhooks/tv/<token>), as shown once "
        "when the webhook was made; kept sealed, never shown again.",
        max_length=500,
    )


class SourceOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "01JEA5C3F4G5H6J7K8M9N0P1Q2",
                    "status": "active",
                    "webhook": "…/webhooks/tv/whk_3q2F…",
                    "chat_id": -1001234567890,
                    "chat_title": "BTC signals",
                    "claim_expires_at": None,
                    "created_at": "2026-12-05T20:00:00Z",
                }
            ]
        }
    )
    id: str
    status: str = Field(description="pending (waiting for its claim in a chat) or active")
    webhook: str = Field(description="The webhook, masked.")
    chat_id: int | None
    chat_title: str | None
    claim_expires_at: datetime | None
    created_at: datetime


class SourceCreated(SourceOut):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "01JEA5C3F4G5H6J7K8M9N0P1Q2",
                    "status": "pending",
                    "webhook": "…/webhooks/tv/whk_3q2F…",
                    "chat_id": None,
                    "chat_title": None,
                    "claim_expires_at": "2026-12-05T20:15:00Z",
                    "created_at": "2026-12-05T20:00:00Z",
                    "claim": "/claim 7KQ2-9XWM",
                }
            ]
        }
    )
    claim: str = Field(
        description="Post this in the channel or group (the bot must be in it) to map it; "
        "it works once, until claim_expires_at."
    )


class SourcesOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "signal_sources": [
                        {
                            "id": "01JEA5C3F4G5H6J7K8M9N0P1Q2",
                            "status": "active",
                            "webhook": "…/webhooks/tv/whk_3q2F…",
                            "chat_id": -1001234567890,
                            "chat_title": "BTC signals",
                            "claim_expires_at": None,
                            "created_at": "2026-12-05T20:00:00Z",
                        }
                    ]
                }
            ]
        }
    )
    signal_sources: list[SourceOut]


class LinkOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "link": "https://t.me/SparkyBot?start=Q2x9mW4kT8",
                    "expires_at": "2026-12-05T20:15:00Z",
                }
            ]
        }
    )
    link: str = Field(description="Open it in Telegram: https://t.me/<bot>?start=<one-time code>")
    expires_at: datetime


def install(app: FastAPI) -> None:
    """Add the signal-source routes and Telegram's webhook."""
    app.include_router(linking)
    app.include_router(sources)
    app.include_router(webhook)


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _telegram(request: Request) -> TelegramBot | None:
    return _runtime(request).telegram


def _out(source: store.SignalSource) -> dict[str, Any]:
    return {
        "id": source.source_id,
        "status": source.status,
        "webhook": source.webhook,
        "chat_id": source.chat_id,
        "chat_title": source.chat_title,
        "claim_expires_at": source.claim_expires_at,
        "created_at": source.created_at,
    }


@linking.post("/telegram", status_code=status.HTTP_201_CREATED, responses=api.answers(409))
async def link_telegram(tenant: CurrentTenant, request: Request) -> LinkOut:
    """A deep link that links the Telegram chat it is opened in (once, within 15 minutes)."""
    runtime = _runtime(request)
    telegram = runtime.telegram
    if telegram is None:
        raise ChannelOffError("Telegram is not configured on this Sparky.")
    username = runtime.settings.telegram_bot_username or _known_username(telegram)
    if not username:
        raise UpstreamError("The Telegram bot is still starting; try again shortly.")
    await ensure_kept_key(runtime, tenant.tenant_id, caller_key(request))
    code = secrets.token_urlsafe(24)  # deep-link parameters: A-Z a-z 0-9 _ -, at most 64
    now = runtime.clock()
    expires = now + timedelta(seconds=runtime.settings.link_code_ttl_s)
    async with runtime.db.as_tenant(tenant.tenant_id) as conn:
        await conn.execute(
            link_codes.insert().values(
                code_digest=code_digest(code),
                tenant_id=tenant.tenant_id,
                created_at=now,
                expires_at=expires,
            )
        )
    return LinkOut(link=f"https://t.me/{username}?start={code}", expires_at=expires)


def _known_username(telegram: TelegramBot) -> str:
    try:
        return telegram.bot.username
    except RuntimeError:  # not initialized yet (getMe not answered)
        return ""


@sources.get("")
async def list_sources(tenant: CurrentTenant, request: Request) -> SourcesOut:
    """Your signal sources: Telegram chats whose posts go to one of your webhooks."""
    async with _runtime(request).db.as_tenant(tenant.tenant_id) as conn:
        found = await store.list_sources(conn, tenant.tenant_id)
    return SourcesOut.model_validate({"signal_sources": [_out(s) for s in found]})


@sources.post("", status_code=status.HTTP_201_CREATED, responses=api.answers(409, 422))
async def add_source(body: SourceIn, tenant: CurrentTenant, request: Request) -> SourceCreated:
    """Start mapping a channel or group to a webhook: post the answer's ``claim`` there."""
    if _telegram(request) is None:
        raise ChannelOffError("Telegram is not configured on this Sparky.")
    url = body.webhook_url.get_secret_value()
    token = token_of(url)
    if token is None:
        raise HTTPException(422, "webhook_url must be a Sparky webhook URL (…/webhooks/tv/…).")
    runtime = _runtime(request)
    code = secrets.token_urlsafe(9)
    now = runtime.clock()
    expires = now + timedelta(seconds=runtime.settings.link_code_ttl_s)
    async with runtime.db.as_tenant(tenant.tenant_id) as conn:
        source = await store.add_source(
            conn,
            runtime.box,
            tenant.tenant_id,
            webhook_masked=masked(url),
            token=token,
            claim_digest=code_digest(code),
            expires_at=expires,
            now=now,
        )
    return SourceCreated.model_validate(_out(source) | {"claim": f"/signals {code}"})


@sources.delete(
    "/{source_id}", status_code=status.HTTP_204_NO_CONTENT, responses=api.answers(404, 422)
)
async def delete_source(source_id: SourceId, tenant: CurrentTenant, request: Request) -> Response:
    """Stop sending a chat's posts to your webhook."""
    async with _runtime(request).db.as_tenant(tenant.tenant_id) as conn:
        if not await store.delete_source(conn, tenant.tenant_id, source_id):
            raise HTTPException(404, "No such signal source.")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@webhook.post(
    "/telegram/webhook",
    responses={
        **api.answers(400, 401, 404),
        200: {"content": {"application/json": {"example": {"ok": True}}}},
    },
)
async def telegram_webhook(
    request: Request,
    secret: Annotated[
        SecretStr | None, Header(alias="X-Telegram-Bot-Api-Secret-Token", max_length=256)
    ] = None,
) -> dict[str, bool]:
    """Telegram's updates, in webhook mode (``SPARKY_NOTIFIER_TELEGRAM_MODE=webhook``)."""
    telegram = _telegram(request)
    if telegram is None or telegram.webhook_secret is None:
        raise HTTPException(404, "The bot does not take updates by webhook here.")
    given = (secret.get_secret_value() if secret else "").encode()
    if not hmac.compare_digest(given, telegram.webhook_secret.encode()):
        raise HTTPException(401, "Wrong or missing X-Telegram-Bot-Api-Secret-Token.")
    try:
        body = await request.json()
        update = Update.de_json(body, telegram.bot) if isinstance(body, dict) else None
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise HTTPException(400, "The body is not a Telegram update.") from error
    if update is None:
        raise HTTPException(400, "The body is not a Telegram update.")
    await telegram.handler.handle(update)
    return {"ok": True}
