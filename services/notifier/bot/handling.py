"""What the bot does with each update, once.

Steps, for every update: classify it (`updates.classify`); in one writer transaction record
its id (`first_time`: an id seen before ends here, so a restart or a redelivery never acts
twice) and make its database changes (a link, a claimed signal source); after the commit,
talk: replies, API calls as the tenant, posts to ingress. A crash between the commit and the
talking loses that reply or post rather than doubling it: a trade must never happen twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError

from libs.common.sealing import DataBox
from services.notifier.bot import metrics, texts
from services.notifier.bot.signals import SignalForwarder
from services.notifier.bot.tenant_api import ApiUnavailable, TenantApis
from services.notifier.bot.updates import (
    ButtonPress,
    Command,
    Edit,
    Ignored,
    Incoming,
    Post,
    PrivateText,
    classify,
)
from services.notifier.channels.telegram import send_html
from services.notifier.channels.telegram_limits import Pacer
from services.notifier.store import telegram as store
from services.notifier.store.channels import code_digest, kept_key
from services.notifier.store.database import Database

log = logging.getLogger(__name__)
BUTTON_TTL_S = 300  # a confirmation button older than this does nothing
ADMINS_TTL_S = 300.0  # how long a group's administrators are taken as known
_READS = frozenset({"status", "positions", "pnl", "alerts"})
After = Callable[[], Awaitable[None]]
_KINDS: dict[type, str] = {
    Command: "command",
    ButtonPress: "button",
    Post: "post",
    Edit: "edit",
    PrivateText: "private_text",
    Ignored: "ignored",
}


@dataclass(frozen=True)
class BotDeps:
    """Everything the bot talks to."""

    db: Database
    box: DataBox
    bot: Bot
    pacer: Pacer
    apis: TenantApis
    forwarder: SignalForwarder
    username: str
    clock: Callable[[], datetime]


class UpdateHandler:
    """Handles updates from getUpdates or the webhook alike."""

    def __init__(self, deps: BotDeps) -> None:
        self._d = deps
        self._admins = GroupAdmins(deps.bot)

    async def handle(self, update: Update) -> None:
        """Handle ``update`` unless it was handled before."""
        incoming = classify(update, self._d.username)
        async with self._d.db.as_writer() as conn:
            if not await store.first_time(conn, incoming.update_id, self._d.clock()):
                metrics.UPDATES.labels("duplicate").inc()
                return
            after = await self._record(conn, incoming)
        metrics.UPDATES.labels(_KINDS[type(incoming)]).inc()
        await after()

    async def _record(self, conn: AsyncConnection, incoming: Incoming) -> After:
        now = self._d.clock()
        if isinstance(incoming, Command) and incoming.name == "start" and incoming.private:
            return await self._start(conn, incoming, now)
        if isinstance(incoming, Command) and incoming.name == "signals" and not incoming.private:
            return await self._claim(conn, incoming, now)
        if isinstance(incoming, (Command, ButtonPress, PrivateText)) and _private(incoming):
            tenant = await store.tenant_of_chat(conn, incoming.chat_id)
            found = None if tenant is None else await kept_key(conn, self._d.box, tenant)
            key = None if found is None else found[1]
            return lambda: self._as_linked(incoming, key, linked=tenant is not None)
        if isinstance(incoming, Post):
            routes = await store.routes_of_chat(conn, self._d.box, incoming.chat_id)
            chats = {r.tenant_id: await store.chats_of_tenant(conn, r.tenant_id) for r in routes}
            return lambda: self._forward(incoming, routes, chats)
        if isinstance(incoming, Edit):
            routes = await store.routes_of_chat(conn, self._d.box, incoming.chat_id)
            told = [r for r in routes if await store.first_edit(conn, r.source_id)]
            notes = [
                (chat, texts.edit_not_traded(r.title or incoming.title))
                for r in told
                for chat in await store.chats_of_tenant(conn, r.tenant_id)
            ]
            return lambda: self._tell_each(notes)
        return _nothing

    # Linking.
    async def _start(self, conn: AsyncConnection, command: Command, now: datetime) -> After:
        if not command.args:
            linked = await store.tenant_of_chat(conn, command.chat_id) is not None
            return lambda: self.reply(command.chat_id, texts.HELP if linked else texts.HOW_TO_LINK)
        tenant = await store.use_link_code(conn, code_digest(command.args), command.chat_id, now)
        if tenant is None:
            return lambda: self.reply(command.chat_id, texts.LINK_REFUSED)
        await store.link_chat(
            conn, self._d.box, tenant, command.chat_id, title=command.title, now=now
        )
        log.info("telegram chat linked", extra={"tenant_id": tenant})
        return lambda: self.reply(command.chat_id, texts.linked(command.title))

    async def _claim(self, conn: AsyncConnection, command: Command, now: datetime) -> After:
        code = command.args.split(maxsplit=1)[0] if command.args else ""
        source = None
        if code:
            source = await store.claim_source(
                conn, code_digest(code), command.chat_id, command.title, now
            )
        if source is None:
            return lambda: self.reply(command.chat_id, texts.SIGNALS_REFUSED)
        chats = await store.chats_of_tenant(conn, source.tenant_id)
        text = texts.signals_claimed(command.title, source.webhook)
        return lambda: self._tell_all(chats, text)

    # A linked (or not) private chat.
    async def _as_linked(self, incoming: Incoming, key: str | None, *, linked: bool) -> None:
        chat_id = incoming.chat_id  # type: ignore[union-attr]
        if not linked:
            if isinstance(incoming, ButtonPress):
                await self._answer(incoming.query_id)
            await self.reply(chat_id, texts.HOW_TO_LINK)
            return
        if isinstance(incoming, ButtonPress):
            await self._press(incoming, key)
        elif isinstance(incoming, Command):
            await self._command(incoming, key)
        else:
            await self.reply(chat_id, texts.HELP)

    async def _command(self, command: Command, key: str | None) -> None:
        chat_id = command.chat_id
        if command.name in ("help", "start"):
            await self.reply(chat_id, texts.HELP)
        elif command.name in ("pause", "resume"):
            question = texts.CONFIRM_PAUSE if command.name == "pause" else texts.CONFIRM_RESUME
            await self.reply(
                chat_id, question, _confirmation(command.name, int(self._d.clock().timestamp()))
            )
        elif command.name in _READS:
            await self.reply(chat_id, await self._read(command.name, key))
        else:
            await self.reply(chat_id, texts.UNKNOWN_COMMAND)

    async def _read(self, name: str, key: str | None) -> str:
        if key is None:
            return texts.failure("Sparky holds no key for your account: link this chat again.")
        apis = self._d.apis
        try:
            if name == "status":
                trading = await apis.trading_enabled(key)
                return texts.status(
                    await apis.account(key), await apis.exchange_accounts(key), trading=trading
                )
            if name == "positions":
                return texts.positions(await apis.positions(key))
            if name == "pnl":
                return texts.pnl(await apis.pnl(key))
            return texts.alerts(await apis.alerts(key))
        except ApiUnavailable as error:
            return texts.failure(str(error))

    async def _press(self, press: ButtonPress, key: str | None) -> None:
        action, _, stamp = press.data.partition(":")
        fresh = stamp.isdigit() and self._d.clock().timestamp() - int(stamp) < BUTTON_TTL_S
        if action not in ("pause", "resume") or not fresh or key is None:
            await self._answer(press.query_id, "Nothing changed.")
            await self._edit(press, texts.CANCELLED)
            return
        try:
            await self._d.apis.set_trading(key, enabled=action == "resume")
        except ApiUnavailable as error:
            await self._answer(press.query_id, "Nothing changed.")
            await self._edit(press, texts.failure(str(error)))
            return
        await self._answer(press.query_id, "Done.")
        await self._edit(press, texts.PAUSED if action == "pause" else texts.RESUMED)

    # Signal posts.
    async def _forward(
        self, post: Post, routes: list[store.Route], chats: dict[str, list[int]]
    ) -> None:
        if not routes:
            return
        if post.user_id is not None and not await self._admins.has(post.chat_id, post.user_id):
            metrics.SIGNALS.labels("not_admin").inc()
            return  # in a group only its administrators' messages are signals
        for route in routes:
            outcome = await self._d.forwarder.forward(route.token, post.text)
            metrics.SIGNALS.labels(outcome.label).inc()
            if outcome.refusal is not None:
                text = texts.signal_refused(route.title or post.title, outcome.refusal)
                await self._tell_all(chats.get(route.tenant_id, []), text)

    # Talking.
    async def reply(
        self, chat_id: int, text: str, markup: InlineKeyboardMarkup | None = None
    ) -> None:
        """Send ``text`` (HTML) to ``chat_id`` within the limits; a failure is only logged."""
        result = await send_html(self._d.bot, self._d.pacer, chat_id, text, markup)
        if result.outcome != "sent":
            log.warning("telegram reply not sent: %s", result.reason, extra={"reason": result.code})

    async def _tell_each(self, notes: list[tuple[int, str]]) -> None:
        for chat_id, text in notes:
            await self.reply(chat_id, text)

    async def _tell_all(self, chats: list[int], text: str) -> None:
        for chat_id in chats:
            await self.reply(chat_id, text)

    async def _answer(self, query_id: str, text: str | None = None) -> None:
        try:
            await self._d.bot.answer_callback_query(query_id, text=text)
        except TelegramError:
            log.warning("telegram callback answer failed")

    async def _edit(self, press: ButtonPress, text: str) -> None:
        try:
            await self._d.bot.edit_message_text(
                text, chat_id=press.chat_id, message_id=press.message_id, parse_mode="HTML"
            )
        except TelegramError:
            log.warning("telegram edit failed")


class GroupAdmins:
    """Who administers a group, asked of Telegram at most every few minutes per group."""

    def __init__(self, bot: Bot, ttl_s: float = ADMINS_TTL_S) -> None:
        self._bot = bot
        self._ttl_s = ttl_s
        self._known: dict[int, tuple[float, frozenset[int]]] = {}

    async def has(self, chat_id: int, user_id: int) -> bool:
        """Whether ``user_id`` administers ``chat_id`` (False when Telegram cannot say)."""
        now = time.monotonic()
        known = self._known.get(chat_id)
        if known is None or known[0] < now:
            try:
                members = await self._bot.get_chat_administrators(chat_id)
            except TelegramError:
                log.warning("telegram group administrators unknown")
                return False
            known = (now + self._ttl_s, frozenset(m.user.id for m in members))
            self._known[chat_id] = known
        return user_id in known[1]


def _private(incoming: Incoming) -> bool:
    return not isinstance(incoming, Command) or incoming.private


def _confirmation(action: str, stamp: int) -> InlineKeyboardMarkup:
    label = "Yes, pause trading" if action == "pause" else "Yes, resume trading"
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(label, callback_data=f"{action}:{stamp}"),
                InlineKeyboardButton("Cancel", callback_data="cancel"),
            ]
        ]
    )


async def _nothing() -> None:
    return None
