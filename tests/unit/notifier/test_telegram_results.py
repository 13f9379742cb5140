"""Telegram's answers decide what the sender does: wait, give the message up, or mark the
chat dead with a reason a trader understands."""

from __future__ import annotations

import datetime as dtm
import warnings
from collections.abc import Callable

import pytest
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from services.notifier.channels.base import Outcome
from services.notifier.channels.telegram import result_of, retry_after_s


@pytest.fixture(autouse=True)
def _timedeltas(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # as the notifier runs (bot.client)


@pytest.mark.parametrize(
    ("make", "outcome", "code"),
    [
        (lambda: RetryAfter(5), Outcome.RETRY, "http_429"),
        (lambda: Forbidden("Forbidden: bot was blocked by the user"), Outcome.DEAD, "http_403"),
        (lambda: Forbidden("Forbidden: user is deactivated"), Outcome.DEAD, "http_403"),
        (
            lambda: Forbidden("Forbidden: bot was kicked from the group chat"),
            Outcome.DEAD,
            "http_403",
        ),
        (lambda: BadRequest("Chat not found"), Outcome.DEAD, "http_400"),
        (lambda: ChatMigrated(-1009), Outcome.DEAD, "chat_migrated"),
        (
            lambda: BadRequest("Can't parse entities: unsupported start tag"),
            Outcome.REFUSED,
            "http_400",
        ),
        (TimedOut, Outcome.RETRY, "timeout"),
        (InvalidToken, Outcome.RETRY, "http_401"),
        (lambda: NetworkError("Bad Gateway"), Outcome.RETRY, "http_5xx"),
    ],
)
def test_each_answer_has_its_outcome(
    make: Callable[[], TelegramError], outcome: Outcome, code: str
) -> None:
    result = result_of(make())
    assert (result.outcome, result.code) == (outcome, code)
    assert result.reason
    assert "token" not in result.reason.lower() or code == "http_401"


def test_retry_after_reads_seconds_in_either_of_the_librarys_forms(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert retry_after_s(RetryAfter(dtm.timedelta(seconds=3))) == 3.0
    assert result_of(RetryAfter(7)).retry_after_s == 7.0
    monkeypatch.setenv("PTB_TIMEDELTA", "false")  # the library's older form: an int
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert retry_after_s(RetryAfter(7)) == 7.0


def test_a_dead_chat_says_why_in_words() -> None:
    assert result_of(Forbidden("Forbidden: bot was blocked by the user")).reason == (
        "The bot was blocked in this chat."
    )
    assert result_of(Forbidden("Forbidden: user is deactivated")).reason == (
        "This Telegram account was deleted."
    )
