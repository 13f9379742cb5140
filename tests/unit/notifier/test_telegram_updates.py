"""The bot reads updates as Telegram sends them: commands, presses, posts, edits."""

from __future__ import annotations

from typing import Any

from telegram import Bot, Update

from services.notifier.bot.updates import (
    ButtonPress,
    Command,
    Edit,
    Ignored,
    Post,
    PrivateText,
    classify,
)
from tests.helpers import telegram_updates as tg

BOT = Bot("123:abc")
NAME = "sparky_test_bot"


def _read(body: dict[str, Any], update_id: int = 7) -> object:
    update = Update.de_json({"update_id": update_id, **body}, BOT)
    assert update is not None
    return classify(update, NAME)


def test_start_with_a_code_is_a_private_command_with_its_code() -> None:
    found = _read(tg.private_message(42, "/start abc123"))
    assert found == Command(
        7, 42, private=True, user_id=42, name="start", args="abc123", title="@u42"
    )


def test_a_command_addressed_to_this_bot_in_a_group_is_read_and_to_another_bot_ignored() -> None:
    ours = _read(tg.group_message(-100, 42, f"/signals@{NAME} code1"))
    assert isinstance(ours, Command)
    assert (ours.name, ours.args, ours.private, ours.title) == (
        "signals",
        "code1",
        False,
        "Signals group",
    )
    assert isinstance(_read(tg.group_message(-100, 42, "/signals@other_bot x")), Ignored)


def test_channel_posts_and_group_messages_are_posts() -> None:
    post = _read(tg.channel_post(-1001, "BUY BTCUSDT 0.01"))
    assert post == Post(7, -1001, "Signals channel", "BUY BTCUSDT 0.01", None)
    message = _read(tg.group_message(-100, 42, "sell ETHUSDT 1"))
    assert isinstance(message, Post)
    assert message.user_id == 42


def test_edits_of_posts_and_messages_are_edits_never_posts() -> None:
    assert isinstance(_read(tg.edited_channel_post(-1001, "BUY BTCUSDT 0.02", 5)), Edit)
    assert isinstance(_read(tg.edited_group_message(-100, 42, "BUY BTCUSDT 0.02", 5)), Edit)


def test_a_button_press_carries_its_data_and_message() -> None:
    found = _read(tg.callback_query(42, "pause:1700000000", 99, "q1"))
    assert found == ButtonPress(7, "q1", 42, 99, "pause:1700000000")


def test_plain_private_text_asks_for_help_and_textless_updates_are_ignored() -> None:
    assert _read(tg.private_message(42, "hello")) == PrivateText(7, 42)
    body = tg.private_message(42, "x")
    del body["message"]["text"]
    assert isinstance(_read(body), Ignored)
