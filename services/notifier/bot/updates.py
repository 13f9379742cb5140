"""What a Telegram update is to Sparky: a command, a button press, a post, an edit, or nothing.

Pure: `classify` reads python-telegram-bot's `Update` and returns one small frozen value, so
the bot's handling (`services.notifier.bot.handling`) never touches the library's objects.
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram import CallbackQuery, Chat, Message, Update
from telegram.constants import ChatType


@dataclass(frozen=True)
class Command:
    """``/name args`` in a private chat (or a group, addressed to this bot)."""

    update_id: int
    chat_id: int
    private: bool
    user_id: int | None
    name: str  # lower case, without the slash and the @bot suffix
    args: str
    title: str  # the chat's title, or "@username" / first name of a private chat


@dataclass(frozen=True)
class ButtonPress:
    """A press of one of the bot's inline buttons."""

    update_id: int
    query_id: str
    chat_id: int
    message_id: int
    data: str


@dataclass(frozen=True)
class Post:
    """A new post in a channel or a message in a group: maybe a trading signal."""

    update_id: int
    chat_id: int
    title: str
    text: str
    user_id: int | None  # the author in a group; None in a channel


@dataclass(frozen=True)
class Edit:
    """An edited post or message: never traded again."""

    update_id: int
    chat_id: int
    title: str


@dataclass(frozen=True)
class PrivateText:
    """Any other message in a private chat."""

    update_id: int
    chat_id: int


@dataclass(frozen=True)
class Ignored:
    """Nothing Sparky acts on (joins, photos without text, other bots' commands…)."""

    update_id: int


Incoming = Command | ButtonPress | Post | Edit | PrivateText | Ignored


def classify(update: Update, bot_username: str) -> Incoming:
    """Return what ``update`` is to Sparky."""
    uid = update.update_id
    if update.callback_query is not None:
        return _press(uid, update.callback_query)
    edited = update.edited_channel_post or update.edited_message
    if edited is not None:
        return Edit(uid, edited.chat.id, edited.chat.title or "")
    message = update.channel_post or update.message
    if message is None or not message.text:
        return Ignored(uid)
    return _message(uid, message, message.text, bot_username)


def _press(uid: int, query: CallbackQuery) -> Incoming:
    message = query.message
    if message is None or query.data is None:
        return Ignored(uid)
    return ButtonPress(uid, query.id, message.chat.id, message.message_id, query.data)


def _message(uid: int, message: Message, text: str, bot_username: str) -> Incoming:
    chat = message.chat
    private = chat.type == ChatType.PRIVATE
    user_id = message.from_user.id if message.from_user else None
    command = _command(text, bot_username)
    if command is not None:
        name, args = command
        return Command(uid, chat.id, private, user_id, name, args, _title(chat))
    if text.startswith("/"):
        return Ignored(uid)  # another bot's command in a group
    return (
        PrivateText(uid, chat.id)
        if private
        else Post(uid, chat.id, chat.title or "", text, user_id)
    )


def _title(chat: Chat) -> str:
    if chat.title:
        return chat.title
    if chat.username:
        return f"@{chat.username}"
    return chat.first_name or ""


def _command(text: str, bot_username: str) -> tuple[str, str] | None:
    if not text.startswith("/"):
        return None
    head, _, args = text.partition(" ")
    name, _, addressee = head[1:].partition("@")
    if addressee and addressee.lower() != bot_username.lower():
        return None
    if not name.replace("_", "").isalnum():
        return None
    return name.lower(), args.strip()
