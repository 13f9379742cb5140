"""The bot assembled: the client, the pacer shared with the channel, the update handler; and
how it starts (polling, or registering the webhook)."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import Bot

from services.notifier.bot.client import make_bot
from services.notifier.bot.handling import BotDeps, UpdateHandler
from services.notifier.bot.runner import Poller, use_webhook
from services.notifier.bot.signals import SignalForwarder
from services.notifier.bot.tenant_api import TenantApis, Urls
from services.notifier.channels.telegram import TelegramChannel
from services.notifier.channels.telegram_limits import Pacer
from services.notifier.config import TelegramMode
from services.notifier.runtime import Runtime

WEBHOOK_PATH = "/telegram/webhook"


@dataclass(frozen=True)
class TelegramBot:
    """What the routes and the channel share."""

    bot: Bot
    pacer: Pacer
    handler: UpdateHandler
    webhook_secret: str | None  # set in webhook mode only


def build(runtime: Runtime) -> TelegramBot | None:
    """Return the bot when a token is configured, else None (Telegram off)."""
    settings = runtime.settings
    if not settings.telegram_on or settings.telegram_bot_token is None:
        return None
    bot = make_bot(
        settings.telegram_bot_token.get_secret_value(),
        settings.telegram_api_url,
        settings.channel_timeout_s,
    )
    pacer = Pacer()
    urls = Urls(
        billing=settings.billing_url,
        router=settings.router_url,
        ledger=settings.ledger_url,
        accounts=settings.accounts_url,
    )
    deps = BotDeps(
        db=runtime.db,
        box=runtime.box,
        bot=bot,
        pacer=pacer,
        apis=TenantApis(urls, runtime.http),
        forwarder=SignalForwarder(settings.ingress_url, runtime.http),
        username=settings.telegram_bot_username,
        clock=runtime.clock,
    )
    secret = None
    if settings.telegram_mode is TelegramMode.WEBHOOK and settings.telegram_webhook_secret:
        secret = settings.telegram_webhook_secret.get_secret_value()
    return TelegramBot(bot, pacer, UpdateHandler(deps), secret)


def install(runtime: Runtime, telegram: TelegramBot) -> None:
    """Register the Telegram channel."""
    runtime.register(TelegramChannel(telegram.bot, telegram.pacer))


async def start(runtime: Runtime, telegram: TelegramBot) -> None:
    """Start taking updates: poll, or register the webhook with Telegram."""
    settings = runtime.settings
    if telegram.webhook_secret is not None:
        url = settings.telegram_webhook_url.rstrip("/") + WEBHOOK_PATH
        runtime.spawn(use_webhook(telegram.bot, url, telegram.webhook_secret), "telegram-webhook")
        return
    poller = Poller(telegram.bot, telegram.handler, runtime.db, runtime.clock)
    runtime.spawn(poller.run(), "telegram-poller")


async def stop(telegram: TelegramBot) -> None:
    """Close the bot's HTTP connections."""
    await telegram.bot.shutdown()
