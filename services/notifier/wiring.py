"""Which channels a deployment has, and the background work the notifier runs."""

from __future__ import annotations

from contextlib import AsyncExitStack

from nats.js import JetStreamContext

from libs.common.topology import Topology
from services.notifier.bot import telegram as telegram_bot
from services.notifier.channels.discord import DiscordChannel
from services.notifier.channels.email import EmailChannel
from services.notifier.channels.webhook import WebhookChannel
from services.notifier.handlers import EventsConsumer
from services.notifier.runtime import Runtime
from services.notifier.sender import Sender
from services.notifier.summary import Summaries


def install_channels(runtime: Runtime) -> None:
    """Register every channel kind this deployment is configured for (the others stay off:
    adding such a channel is refused with 409)."""
    runtime.register(DiscordChannel(runtime))
    runtime.register(WebhookChannel(runtime))
    if runtime.settings.email_on:
        runtime.register(EmailChannel(runtime))
    runtime.telegram = telegram_bot.build(runtime)  # None: no bot token
    if runtime.telegram is not None:
        telegram_bot.install(runtime, runtime.telegram)


async def start_background(
    runtime: Runtime, js: JetStreamContext, topology: Topology, stack: AsyncExitStack
) -> None:
    """Start the EVENTS consumer and the sender (and the daily summary); stopped by
    ``stack`` on the way out."""
    settings = runtime.settings
    consumer = EventsConsumer(runtime, topology)
    await consumer.start(js, settings.batch_size, settings.batch_wait_s)
    stack.push_async_callback(consumer.stop)
    runtime.spawn(Sender(runtime).run(), "notifier-sender")
    if settings.email_on:
        runtime.spawn(Summaries(runtime).run(), "notifier-daily-summary")
    if runtime.telegram is not None:
        await telegram_bot.start(runtime, runtime.telegram)
        stack.push_async_callback(telegram_bot.stop, runtime.telegram)
