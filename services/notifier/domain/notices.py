"""What an event says, as a `Notice` of plain-text pieces; the notices the notifier makes itself
(a channel's verification code, a test)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, ConfigDict

from services.notifier.domain.kinds import FAILURE_KINDS


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
