"""Pure decisions: which events a channel wants, what an event says, how notices read in
each channel's markup, and how several fold into one message. No I/O.

A `Notice` is what one event says, as plain text pieces (a title, a one-line summary, labelled
facts); `render` escapes each piece for the channel's markup, so nothing a trader or an
exchange wrote (a symbol, a reason) can inject markup. Several notices due together on one
channel become one message (`render` of several): "12 orders filled (BTCUSDT +0.1, …)".
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict


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


class Notice(BaseModel):
    """What one event says: plain-text pieces, escaped only when rendered."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: str
    tenant_id: str
    kind: str
    occurred_at: datetime
    title: str  # "Order filled"
    summary: str  # one line: "BTCUSDT buy 0.1 @ 60000 (main)"
    facts: tuple[tuple[str, str], ...] = ()  # labelled details
    short: str = ""  # folded form in a coalesced line: "BTCUSDT +0.1"
    data: dict[str, Any] = {}  # the machine-readable facts a webhook receives

    @property
    def failure(self) -> bool:
        return self.kind in FAILURE_KINDS


# --- Notices from events ----------------------------------------------------------------------
_TITLES: Mapping[str, str] = {
    "order.filled": "Order filled",
    "order.submitted": "Order placed",
    "intent.rejected": "Alert rejected",
    "order.rejected": "Order rejected",
    "order.failed": "Order failed",
    "order.uncertain": "Order status unknown",
    "protection.failed": "Protective order failed",
    "alert.refused": "Alert refused",
    "position.drift": "Position drift",
    "position.marked": "Position marked",
    "funding.paid": "Funding",
    "settings.kill_switch": "Kill switch",
    "billing.payment_failed": "Payment failed",
    "billing.grace_ending": "Grace period ending",
    "daily.summary": "Daily summary",
}


def _s(event: Mapping[str, Any], key: str) -> str:
    value = event.get(key)
    return "" if value is None else str(value)


def _num(value: object) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return Decimal(0)


def _fmt(value: Decimal) -> str:
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _filled(event: Mapping[str, Any]) -> tuple[str, str, list[tuple[str, str]]]:
    fills = event.get("fills") or []
    amount = sum((_num(f.get("amount")) for f in fills), Decimal(0))
    cost = sum((_num(f.get("amount")) * _num(f.get("price")) for f in fills), Decimal(0))
    price = _fmt((cost / amount).quantize(Decimal("1e-8"))) if amount else "?"
    symbol, side = _s(event, "symbol"), _s(event, "side")
    signed = ("+" if side == "buy" else "-") + _fmt(amount)
    summary = f"{symbol} {side} {_fmt(amount)} @ {price}"
    facts = [("Account", _s(event, "account_label")), ("Price", price)]
    if event.get("role") not in (None, "order"):
        facts.append(("Role", _s(event, "role").replace("_", " ")))
    return summary, f"{symbol} {signed}", facts


def _order_problem(event: Mapping[str, Any]) -> tuple[str, str, list[tuple[str, str]]]:
    symbol = _s(event, "symbol")
    reason = _s(event, "reason") or _s(event, "message")
    what = f"{symbol} {_s(event, 'side')}".strip()
    facts = [("Account", _s(event, "account_label")), ("Reason", reason)]
    if event.get("protection"):
        facts.append(("Protection", _s(event, "protection").replace("_", " ")))
    return f"{what}: {reason}" if what else reason, symbol, facts


def _refused(event: Mapping[str, Any]) -> tuple[str, str, list[tuple[str, str]]]:
    count = int(event.get("count") or 1)
    message = _s(event, "message") or _s(event, "reason")
    summary = f"{message} ({count} times)" if count > 1 else message
    return summary, _s(event, "reason") or message[:20], [("Reason", _s(event, "reason"))]


def _kill_switch(event: Mapping[str, Any]) -> tuple[str, str, list[tuple[str, str]]]:
    state = "trading resumed" if event.get("enabled") else "trading paused"
    scope = " ".join(
        part for part in (_s(event, "layer"), _s(event, "account"), _s(event, "symbol")) if part
    )
    return f"{state} ({scope})" if scope else state, state, []


def _billing(event: Mapping[str, Any]) -> tuple[str, str, list[tuple[str, str]]]:
    ends = _s(event, "grace_ends_at")
    summary = f"plan {_s(event, 'plan')}, grace ends {ends}" if ends else _s(event, "plan")
    return summary, _s(event, "plan"), [("Plan", _s(event, "plan")), ("Grace ends", ends)]


def _generic(event: Mapping[str, Any]) -> tuple[str, str, list[tuple[str, str]]]:
    text = _s(event, "message") or _s(event, "reason") or _s(event, "symbol")
    return text, _s(event, "symbol") or text[:20], []


_DESCRIBE = {
    "order.filled": _filled,
    "intent.rejected": _order_problem,
    "order.rejected": _order_problem,
    "order.failed": _order_problem,
    "order.uncertain": _order_problem,
    "protection.failed": _order_problem,
    "alert.refused": _refused,
    "settings.kill_switch": _kill_switch,
    "billing.payment_failed": _billing,
    "billing.grace_ending": _billing,
}
_ENVELOPE = ("message_id", "tenant_id", "correlation_id", "causation_id", "occurred_at", "kind")


def notice_of(event: Mapping[str, Any]) -> Notice:
    """Return what ``event`` (a decoded EVENTS payload with ``kind``) says."""
    kind = str(event["kind"])
    summary, short, facts = _DESCRIBE.get(kind, _generic)(event)
    return Notice(
        event_id=str(event["message_id"]),
        tenant_id=str(event["tenant_id"]),
        kind=kind,
        occurred_at=event["occurred_at"],
        title=_TITLES.get(kind, kind),
        summary=summary,
        short=short or summary[:24],
        facts=tuple((label, value) for label, value in facts if value),
        data={k: v for k, v in event.items() if k not in _ENVELOPE},
    )


# --- Rendering ---------------------------------------------------------------------------------
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_~|>#\[\]()<:@-])")


def escape(text: str, markup: Markup) -> str:
    """Return ``text`` shown literally in ``markup``."""
    if markup is Markup.HTML:
        return html.escape(text, quote=False)
    if markup is Markup.MARKDOWN:
        # Mentions (@everyone) and links must not fire: break them with a zero-width space.
        text = text.replace("@", "@\u200b").replace("://", ":\u200b//")
        return _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    return text


def _bold(text: str, markup: Markup) -> str:
    if markup is Markup.HTML:
        return f"<b>{escape(text, markup)}</b>"
    if markup is Markup.MARKDOWN:
        return f"**{escape(text, markup)}**"
    return text


def _one(notice: Notice, markup: Markup) -> list[str]:
    lines = [f"{_bold(notice.title, markup)}: {escape(notice.summary, markup)}"]
    lines += [f"{escape(label, markup)}: {escape(value, markup)}" for label, value in notice.facts]
    return lines


def _folded(group: Sequence[Notice], markup: Markup, shown: int) -> str:
    title = group[0].title.lower()
    count = f"{len(group)} x {title}" if group[0].kind != "order.filled" else None
    head = count or f"{len(group)} orders filled"
    items = [n.short for n in group[:shown]]
    more = f", … and {len(group) - shown} more" if len(group) > shown else ""
    return f"{_bold(head, markup)} ({escape(', '.join(items) + more, markup)})"


def render(notices: Sequence[Notice], markup: Markup, *, max_chars: int = 4000) -> str:
    """Return the text of one message saying ``notices`` in ``markup``: each in full when
    alone, folded by kind when several ("12 orders filled (BTCUSDT +0.1, …)")."""
    if len(notices) == 1:
        return _cut("\n".join(_one(notices[0], markup)), max_chars)
    groups: dict[str, list[Notice]] = {}
    for notice in notices:
        groups.setdefault(notice.kind, []).append(notice)
    shown = 10
    while True:
        text = "\n".join(
            _folded(g, markup, shown) if len(g) > 1 else "\n".join(_one(g[0], markup))
            for g in groups.values()
        )
        if len(text) <= max_chars or shown == 1:
            return _cut(text, max_chars)
        shown = max(1, shown // 2)


def _cut(text: str, max_chars: int) -> str:
    # Cut at a line break so no escape or tag is split.
    if len(text) <= max_chars:
        return text
    return text[: text.rfind("\n", 0, max_chars - 2)] + "\n…"


def subject(notices: Sequence[Notice]) -> str:
    """Return an email subject for ``notices``."""
    if len(notices) == 1:
        return f"Sparky: {notices[0].title} - {notices[0].summary}"[:150]
    return f"Sparky: {len(notices)} notifications"


VERIFICATION_KIND = "channel.verification"
TEST_KIND = "channel.test"


def verification_notice(tenant_id: str, channel_id: str, code: str, at: datetime) -> Notice:
    """Return the message that proves a channel reaches its owner: it holds the code."""
    return Notice(
        event_id=f"verify:{channel_id}:{code}",
        tenant_id=tenant_id,
        kind=VERIFICATION_KIND,
        occurred_at=at,
        title="Sparky verification code",
        summary=f"{code} (enter it in Sparky to turn this channel on)",
        short=code,
        data={"code": code},
    )


def test_notice(tenant_id: str, channel_id: str, test_id: str, at: datetime) -> Notice:
    """Return a test message for a channel."""
    return Notice(
        event_id=f"test:{channel_id}:{test_id}",
        tenant_id=tenant_id,
        kind=TEST_KIND,
        occurred_at=at,
        title="Test",
        summary="This channel receives Sparky's notifications.",
        short="test",
    )
