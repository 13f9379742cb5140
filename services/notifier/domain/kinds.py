"""Channel kinds and markups, the event kinds a channel may want, and whether it wants one."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Literal, get_args


class ChannelKind(StrEnum):
    TELEGRAM = "telegram"
    DISCORD = "discord"
    EMAIL = "email"
    WEBHOOK = "webhook"


class Markup(StrEnum):
    """How a channel's text is marked up."""

    PLAIN = "plain"
    HTML = "html"  # Telegram's HTML parse mode, email's HTML part
    MARKDOWN = "markdown"  # Discord


# Event kinds a channel may want; the order is the one shown to traders.
EventKind = Literal[
    "order.filled",
    "order.submitted",
    "intent.rejected",
    "order.rejected",
    "order.failed",
    "order.uncertain",
    "protection.failed",
    "alert.refused",
    "position.drift",
    "position.marked",
    "funding.paid",
    "settings.kill_switch",
    "billing.payment_failed",
    "billing.grace_ending",
    "daily.summary",
]
EVENT_KINDS: tuple[str, ...] = get_args(EventKind)
NOISY_KINDS = frozenset({"order.submitted", "position.marked", "funding.paid"})
DEFAULT_KINDS: tuple[str, ...] = tuple(k for k in EVENT_KINDS if k not in NOISY_KINDS)
# What a quiet channel still gets: failures, rejections, billing and kill-switch changes.
QUIET_KINDS = frozenset(
    {
        "intent.rejected",
        "order.rejected",
        "order.failed",
        "order.uncertain",
        "protection.failed",
        "alert.refused",
        "position.drift",
        "settings.kill_switch",
        "billing.payment_failed",
        "billing.grace_ending",
    }
)
EMAIL_ONLY_KINDS = frozenset({"daily.summary"})
FAILURE_KINDS = QUIET_KINDS - {"settings.kill_switch"}


class Wish(StrEnum):
    """What a channel does with an event."""

    SEND = "send"
    DROP = "drop"  # a known kind the channel does not want (or quiet): a `dropped` row
    IGNORE = "ignore"  # not a notification at all: no row


def wish(kind: str, wanted: Iterable[str], *, quiet: bool) -> Wish:
    """Decide whether a channel that wants ``wanted`` (and is ``quiet`` or not) sends
    an event of ``kind``."""
    if kind not in EVENT_KINDS:
        return Wish.IGNORE
    if kind in wanted and (not quiet or kind in QUIET_KINDS or kind == "daily.summary"):
        return Wish.SEND
    # Frequent kinds nobody asked for leave no trace: a row per mark would be noise.
    return Wish.IGNORE if kind in NOISY_KINDS else Wish.DROP
