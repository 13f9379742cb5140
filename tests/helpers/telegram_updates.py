"""Telegram updates as the Bot API sends them, for tests to inject into the stand-in.

Each builder returns the update's body without ``update_id`` (the stand-in numbers them), in
the shape of https://core.telegram.org/bots/api#update: private messages, commands (with their
``bot_command`` entity), callback queries, channel posts and group messages, and their edits.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

Json = dict[str, Any]

_message_ids = itertools.count(1000)


def user(user_id: int, first_name: str = "Trader") -> Json:
    """Return a Telegram user."""
    return {"id": user_id, "is_bot": False, "first_name": first_name, "username": f"u{user_id}"}


def private_chat(chat_id: int) -> Json:
    """Return a private chat (its id is the user's)."""
    return {"id": chat_id, "type": "private", "first_name": "Trader", "username": f"u{chat_id}"}


def group_chat(chat_id: int, title: str = "Signals group") -> Json:
    """Return a supergroup (negative id, as Telegram's)."""
    return {"id": chat_id, "type": "supergroup", "title": title}


def channel_chat(chat_id: int, title: str = "Signals channel") -> Json:
    """Return a channel (negative id, as Telegram's)."""
    return {"id": chat_id, "type": "channel", "title": title}


def _message(chat: Json, text: str, sender: Json | None, message_id: int | None = None) -> Json:
    message: Json = {
        "message_id": message_id if message_id is not None else next(_message_ids),
        "date": int(time.time()),
        "chat": chat,
        "text": text,
    }
    if sender is not None:
        message["from"] = sender
    if text.startswith("/"):
        command = text.split(maxsplit=1)[0]
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
    return message


def private_message(chat_id: int, text: str) -> Json:
    """A message (or a command: ``/start abc``) in a private chat with the bot."""
    return {"message": _message(private_chat(chat_id), text, user(chat_id))}


def group_message(chat_id: int, user_id: int, text: str, title: str = "Signals group") -> Json:
    """A message by ``user_id`` in a group the bot is in."""
    return {"message": _message(group_chat(chat_id, title), text, user(user_id))}


def edited_group_message(chat_id: int, user_id: int, text: str, message_id: int) -> Json:
    """An edit of a group message."""
    edited = _message(group_chat(chat_id), text, user(user_id), message_id)
    return {"edited_message": edited | {"edit_date": int(time.time())}}


def channel_post(chat_id: int, text: str, title: str = "Signals channel") -> Json:
    """A post in a channel the bot administers (channel posts have no sender)."""
    return {"channel_post": _message(channel_chat(chat_id, title), text, None)}


def edited_channel_post(chat_id: int, text: str, message_id: int) -> Json:
    """An edit of an earlier channel post."""
    edited = _message(channel_chat(chat_id), text, None, message_id)
    return {"edited_channel_post": edited | {"edit_date": int(time.time())}}


def callback_query(chat_id: int, data: str, message_id: int, query_id: str = "") -> Json:
    """A press of an inline button under the bot's message ``message_id`` in a private chat."""
    message = _message(private_chat(chat_id), "(the bot's message)", None, message_id)
    return {
        "callback_query": {
            "id": query_id or f"cq{next(_message_ids)}",
            "from": user(chat_id),
            "chat_instance": str(chat_id),
            "message": message,
            "data": data,
        }
    }


def message_id_of(update: Json) -> int:
    """The id of the message an update carries (to edit it later)."""
    for key in ("message", "channel_post", "edited_message", "edited_channel_post"):
        if key in update:
            return int(update[key]["message_id"])
    raise KeyError("the update carries no message")
