"""A Telegram Bot API stand-in on loopback: what the notifier's bot and channel talk to in tests.

It speaks the real API's shape (``/bot<token>/<method>``, form or JSON parameters, answers
``{"ok": true, "result": …}`` or ``{"ok": false, "error_code", "description", "parameters"}``)
for the methods Sparky uses: ``getMe``, ``getUpdates`` (long polling with ``offset`` and
``timeout``; 409 while a webhook is set, as Telegram), ``sendMessage``, ``answerCallbackQuery``,
``editMessageText``, ``getChatAdministrators``, ``setWebhook``, ``deleteWebhook``,
``getWebhookInfo``.

It enforces Telegram's flood limits the way Telegram does, by answering 429 with
``retry_after``: one message per second per chat, 20 per minute per group or channel, 30 per
second per bot. Every such refusal is kept in ``flood_refusals``, so a test proves a sender
stays within the limits by finding none. A test can also queue 429s (``fail_next``), block a
chat (403 "Forbidden: bot was blocked by the user") or make one unknown (400 "Bad Request:
chat not found"). With a webhook set, injected updates are POSTed to it with the secret token.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from tests.helpers.polling import eventually
from tests.helpers.ports import free_port

Json = dict[str, Any]

BOT_ID = 7000001
BOT_USERNAME = "sparky_test_bot"
# Telegram's limits (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this)
PER_CHAT_INTERVAL_S = 1.0
GROUP_PER_MINUTE = 20
BOT_PER_SECOND = 30
# Clocks of two processes and the network jitter by a few milliseconds: a sender that spaces
# its messages by the limit is within it.
JITTER_S = 0.05
_JSON_FIELDS = frozenset({"reply_markup", "allowed_updates", "link_preview_options", "entities"})
_BARE_AMPERSAND = re.compile(r"&(?!(?:amp|lt|gt|quot|#\d+|#x[0-9a-fA-F]+);)")
_INT_FIELDS = frozenset({"chat_id", "offset", "limit", "timeout", "message_id", "user_id"})


@dataclass
class Sent:
    """One message the bot sent (or an edit of one)."""

    chat_id: int
    text: str
    parse_mode: str | None
    reply_markup: Json | None
    message_id: int
    at: float


@dataclass
class FloodRefusal:
    """A 429 the stand-in answered because a limit was exceeded."""

    chat_id: int
    limit: str  # "chat", "group" or "bot"
    at: float


@dataclass
class _State:
    updates: list[Json] = field(default_factory=list)
    next_update_id: int = 1
    confirmed_below: int = 0
    sent: list[Sent] = field(default_factory=list)
    edits: list[Sent] = field(default_factory=list)
    answered_callbacks: list[Json] = field(default_factory=list)
    flood_refusals: list[FloodRefusal] = field(default_factory=list)
    unparsable: list[str] = field(default_factory=list)  # HTML Telegram would refuse
    queued_failures: collections.deque[int] = field(default_factory=collections.deque)
    blocked: set[int] = field(default_factory=set)
    unknown: set[int] = field(default_factory=set)
    admins: dict[int, set[int]] = field(default_factory=dict)  # group → its administrators
    webhook_url: str = ""
    webhook_secret: str = ""
    get_updates_calls: int = 0


class TelegramApiStandIn:
    """The stand-in server; ``async with TelegramApiStandIn(token) as api``, then point the
    bot at ``api.base_url`` (``SPARKY_NOTIFIER_TELEGRAM_API_URL``).
    """

    def __init__(self, token: str, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.token = token
        self.port = free_port()
        self._clock = clock
        self.state = _State()
        self._new_update = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._recent: dict[int, collections.deque[float]] = collections.defaultdict(
            collections.deque
        )
        self._bot_recent: collections.deque[float] = collections.deque()
        self._message_ids = 50_000
        self._closing = False

    @property
    def base_url(self) -> str:
        """The API's base URL, as ``https://api.telegram.org`` (without ``/bot<token>``)."""
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> TelegramApiStandIn:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        async with self._new_update:  # end pending long polls at once
            self._closing = True
            self._new_update.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()

    # What a test does.
    async def inject(self, update: Json) -> int:
        """Add an update (a `tests.helpers.telegram_updates` body); return its ``update_id``.

        With a webhook set it is POSTed there (with ``X-Telegram-Bot-Api-Secret-Token``);
        else it waits for ``getUpdates``.
        """
        update_id = self.state.next_update_id
        self.state.next_update_id += 1
        full = {"update_id": update_id, **update}
        if self.state.webhook_url:
            await self._post_to_webhook(full)
            return update_id
        async with self._new_update:
            self.state.updates.append(full)
            self._new_update.notify_all()
        return update_id

    async def redeliver(self, update_id: int) -> None:
        """Offer updates from ``update_id`` on again, as Telegram does when the confirmation
        (the next ``offset``) never reached it."""
        async with self._new_update:
            self.state.confirmed_below = min(self.state.confirmed_below, update_id)
            self._new_update.notify_all()

    def fail_next(self, retry_after: int, times: int = 1) -> None:
        """Answer the next ``times`` sendMessage calls with 429 and this ``retry_after``."""
        self.state.queued_failures.extend([retry_after] * times)

    def make_admin(self, chat_id: int, user_id: int) -> None:
        """``user_id`` administers the group ``chat_id`` (getChatAdministrators lists them)."""
        self.state.admins.setdefault(chat_id, set()).add(user_id)

    def block(self, chat_id: int) -> None:
        """The user blocked the bot: sendMessage to them answers 403."""
        self.state.blocked.add(chat_id)

    def forget(self, chat_id: int) -> None:
        """The chat does not exist (any more): sendMessage answers 400 chat not found."""
        self.state.unknown.add(chat_id)

    def sent_to(self, chat_id: int) -> list[Sent]:
        """The messages sent to ``chat_id``, oldest first."""
        return [message for message in self.state.sent if message.chat_id == chat_id]

    async def wait_for(
        self, predicate: Callable[[], bool], what: str, timeout_s: float = 20.0
    ) -> None:
        """Poll ``predicate`` until it holds; fail saying ``what`` was awaited and what the
        bot sent last."""
        try:
            await eventually(predicate, what=what, timeout_s=timeout_s)
        except AssertionError as failure:
            sent = [(m.chat_id, m.text[:80]) for m in self.state.sent[-10:]]
            raise AssertionError(f"{failure}; last sent: {sent}") from None

    # The API.
    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        params = await _params(request)
        handler = getattr(self, "_m_" + request.match_info["method"].lower(), None)
        if handler is None:
            return _error(404, "Not Found: method not found")
        answer: web.Response = await handler(params)
        return answer

    async def _m_getme(self, params: Json) -> web.Response:
        me = {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Sparky",
            "username": BOT_USERNAME,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        return _ok(me)

    async def _m_getupdates(self, params: Json) -> web.Response:
        self.state.get_updates_calls += 1
        if self.state.webhook_url:
            return _error(409, "Conflict: can't use getUpdates method while webhook is active")
        offset = int(params.get("offset", 0))
        if offset:
            self.state.confirmed_below = max(self.state.confirmed_below, offset)
        timeout = min(float(params.get("timeout", 0)), 50.0)
        limit = int(params.get("limit", 100))
        async with self._new_update:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._new_update.wait_for(lambda: self._closing or bool(self._pending())),
                    timeout,
                )
            return _ok(self._pending()[:limit])

    def _pending(self) -> list[Json]:
        floor = self.state.confirmed_below
        return [u for u in self.state.updates if u["update_id"] >= floor]

    def _refusal(self, chat_id: int, params: Json) -> web.Response | None:
        if chat_id in self.state.blocked:
            return _error(403, "Forbidden: bot was blocked by the user")
        if chat_id in self.state.unknown:
            return _error(400, "Bad Request: chat not found")
        if not str(params.get("text", "")).strip():
            return _error(400, "Bad Request: message text is empty")
        if params.get("parse_mode") == "HTML" and not _balanced_html(str(params["text"])):
            self.state.unparsable.append(str(params["text"]))
            return _error(400, "Bad Request: can't parse entities: unsupported start tag")
        if self.state.queued_failures:
            return _flood(self.state.queued_failures.popleft())
        return self._over_limit(chat_id)

    async def _m_sendmessage(self, params: Json) -> web.Response:
        chat_id = int(params["chat_id"])
        refused = self._refusal(chat_id, params)
        if refused is not None:
            return refused
        self._message_ids += 1
        sent = Sent(
            chat_id=chat_id,
            text=str(params["text"]),
            parse_mode=params.get("parse_mode"),
            reply_markup=params.get("reply_markup"),
            message_id=self._message_ids,
            at=self._clock(),
        )
        self.state.sent.append(sent)
        return _ok(_message_json(sent))

    def _over_limit(self, chat_id: int) -> web.Response | None:
        now = self._clock()
        recent = self._recent[chat_id]
        group = chat_id < 0
        window = 60.0 if group else PER_CHAT_INTERVAL_S
        allowed = GROUP_PER_MINUTE if group else 1
        while recent and recent[0] <= now - window + JITTER_S:
            recent.popleft()
        while self._bot_recent and self._bot_recent[0] <= now - 1.0 + JITTER_S:
            self._bot_recent.popleft()
        if len(recent) >= allowed:
            retry = max(1, int(recent[0] + window - now + 0.999))
            self.state.flood_refusals.append(
                FloodRefusal(chat_id, "group" if group else "chat", now)
            )
            return _flood(retry)
        if len(self._bot_recent) >= BOT_PER_SECOND:
            self.state.flood_refusals.append(FloodRefusal(chat_id, "bot", now))
            return _flood(1)
        recent.append(now)
        self._bot_recent.append(now)
        return None

    async def _m_editmessagetext(self, params: Json) -> web.Response:
        edit = Sent(
            chat_id=int(params["chat_id"]),
            text=str(params["text"]),
            parse_mode=params.get("parse_mode"),
            reply_markup=params.get("reply_markup"),
            message_id=int(params["message_id"]),
            at=self._clock(),
        )
        self.state.edits.append(edit)
        return _ok(_message_json(edit))

    async def _m_getchatadministrators(self, params: Json) -> web.Response:
        chat_id = int(params["chat_id"])
        owners = [
            {"status": "creator", "is_anonymous": False, "user": _user(user_id)}
            for user_id in sorted(self.state.admins.get(chat_id, set()))
        ]
        return _ok(owners)

    async def _m_answercallbackquery(self, params: Json) -> web.Response:
        self.state.answered_callbacks.append(params)
        return _ok(result=True)

    async def _m_setwebhook(self, params: Json) -> web.Response:
        self.state.webhook_url = str(params.get("url", ""))
        self.state.webhook_secret = str(params.get("secret_token", ""))
        return _ok(result=True)

    async def _m_deletewebhook(self, params: Json) -> web.Response:
        self.state.webhook_url = ""
        self.state.webhook_secret = ""
        return _ok(result=True)

    async def _m_getwebhookinfo(self, params: Json) -> web.Response:
        pending = len(self._pending())
        return _ok(
            {
                "url": self.state.webhook_url,
                "has_custom_certificate": False,
                "pending_update_count": pending,
            }
        )

    async def _post_to_webhook(self, update: Json) -> None:
        headers = {"X-Telegram-Bot-Api-Secret-Token": self.state.webhook_secret}
        url = self.state.webhook_url
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, json=update, headers=headers) as resp,
        ):
            if resp.status != 200:  # Telegram would retry; a test wants to know
                raise AssertionError(f"the webhook answered {resp.status}")


async def _params(request: web.Request) -> Json:
    raw: dict[str, Any]
    if request.content_type == "application/json":
        raw = await request.json()
    elif request.method == "GET":
        raw = dict(request.query)
    else:
        raw = dict((await request.post()).items())
    params: Json = {}
    for key, value in raw.items():
        if key in _JSON_FIELDS and isinstance(value, str):
            params[key] = json.loads(value)
        elif key in _INT_FIELDS and isinstance(value, str) and value.lstrip("-").isdigit():
            params[key] = int(value)
        else:
            params[key] = value
    return params


def _balanced_html(text: str) -> bool:
    """Telegram refuses HTML parse mode text with a bare ``<`` or ``&`` or an unknown tag."""
    if _BARE_AMPERSAND.search(text):
        return False
    allowed = ("b", "i", "u", "s", "code", "pre", "a", "tg-spoiler", "blockquote")
    index = text.find("<")
    while index != -1:
        end = text.find(">", index)
        if end == -1:
            return False
        tag = text[index + 1 : end].lstrip("/").split(" ", 1)[0]
        if tag not in allowed:
            return False
        index = text.find("<", end)
    return True


def _user(user_id: int) -> Json:
    return {"id": user_id, "is_bot": False, "first_name": "Admin", "username": f"u{user_id}"}


def _message_json(sent: Sent) -> Json:
    chat_type = "supergroup" if sent.chat_id < 0 else "private"
    return {
        "message_id": sent.message_id,
        "date": int(time.time()),
        "chat": {"id": sent.chat_id, "type": chat_type},
        "from": {"id": BOT_ID, "is_bot": True, "first_name": "Sparky", "username": BOT_USERNAME},
        "text": sent.text,
    }


def _ok(result: object = None) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(status: int, description: str) -> web.Response:
    body = {"ok": False, "error_code": status, "description": description}
    return web.json_response(body, status=status)


def _flood(retry_after: int) -> web.Response:
    body = {
        "ok": False,
        "error_code": 429,
        "description": f"Too Many Requests: retry after {retry_after}",
        "parameters": {"retry_after": retry_after},
    }
    return web.json_response(body, status=429)


@contextlib.asynccontextmanager
async def telegram_api(token: str) -> AsyncIterator[TelegramApiStandIn]:
    """Run a stand-in for the duration of the block."""
    async with TelegramApiStandIn(token) as api:
        yield api
