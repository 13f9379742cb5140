"""How each event moves an alert in the trader's feed: its status, the outcome in words, the
reason code, what filled and what it realized. Pure, like the rest of the projection.

An alert is ``received`` once ingress stored it, ``rejected`` when the router refused it, then
follows its own orders (not the orders protecting them): ``placed``, ``partially_filled``,
``filled``, ``canceled``, ``failed`` (by the exchange: ``rejected``) or ``uncertain``. With
several orders (a reversal's legs) the latest event of any of them sets the status; the filled
amount and average price are over all of them. A refusal at the webhook is an alert of its
own, ``refused``, under the id of its `AlertRefused` event.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from libs.common.fsm import OrderState
from libs.common.messages import AlertRefused, IntentAccepted, IntentRejected
from libs.common.messages.events import Fill, OrderEvent
from services.ledger.domain.positions import ENTRY, EXACT, ZERO
from services.ledger.domain.rows import IntentRow, OrderRow

_FEED = {
    OrderState.SUBMITTED: "placed",
    OrderState.PARTIALLY_FILLED: "partially_filled",
    OrderState.FILLED: "filled",
    OrderState.CANCELED: "canceled",
    OrderState.REJECTED: "rejected",
    OrderState.FAILED: "failed",
    OrderState.UNCERTAIN: "uncertain",
}
_REASON = {"rejected": "exchange_rejected", "failed": "order_failed", "uncertain": "not_confirmed"}
_REFUSED = {
    "invalid_alert": "the message is not an alert Sparky can use",
    "passphrase": "the passphrase is missing or wrong",
    "url_replaced": "the webhook URL was replaced by a new one",
    "ip_not_allowed": "the sender is not in the webhook's IP allowlist",
    "webhook_disabled": "the webhook is disabled",
    "suspended": "the account is suspended",
    "too_large": "the message is too large",
    "rate_limited": "more alerts than the plan allows",
}


def accepted(row: IntentRow | None, event: IntentAccepted) -> IntentRow:
    """The alert as ingress stored it (what came first, a rejection or an order, stays)."""
    base = row or IntentRow(
        event.tenant_id,
        event.intent_id,
        "accepted",
        event.occurred_at,
        outcome="Received; waiting for the router.",
    )
    return replace(
        base,
        webhook_id=event.webhook_id,
        action=event.action.value,
        symbol=event.symbol,
        strategy=event.strategy,
        received_at=event.received_at,
        accepted_at=event.occurred_at,
        updated_at=max(base.updated_at, event.occurred_at),
    )


def rejected(row: IntentRow | None, event: IntentRejected) -> IntentRow:
    """The router refused the alert: why, in its words."""
    base = row or IntentRow(event.tenant_id, event.intent_id, "rejected", event.occurred_at)
    return replace(
        base,
        status="rejected",
        reject_reason=event.reason.value,
        reject_message=event.message,
        rejected_at=event.occurred_at,
        feed_status="rejected",
        outcome=f"Rejected: {event.message}",
        reason=event.reason.value,
        updated_at=max(base.updated_at, event.occurred_at),
    )


def refused(event: AlertRefused) -> IntentRow:
    """A refusal at the webhook (``count`` requests folded into one event)."""
    what = _REFUSED.get(event.reason.value, event.reason.value.replace("_", " "))
    times = f" ({event.count} requests)" if event.count > 1 else ""
    return IntentRow(
        event.tenant_id,
        event.message_id,
        "refused",
        event.occurred_at,
        webhook_id=event.webhook_id,
        received_at=event.first_refused_at,
        feed_status="refused",
        outcome=f"Refused at the webhook{times}, {what} (HTTP {event.status}): {event.message}",
        reason=event.reason.value,
    )


def ordered(
    row: IntentRow | None, order: OrderRow, event: OrderEvent, new_fills: list[Fill]
) -> IntentRow:
    """The alert after an event of one of its orders (``order`` as it is now)."""
    base = row or IntentRow(
        order.tenant_id, order.intent_id, "accepted", event.occurred_at, received_at=None
    )
    base = replace(base, updated_at=max(base.updated_at, event.occurred_at))
    if order.role != "order":
        return base  # a protective order: its fills count in PnL, not in the alert's status
    amount, notional = base.filled_amount, base.filled_notional
    for fill in new_fills:
        amount = EXACT.add(amount, fill.amount)
        notional = EXACT.add(notional, EXACT.multiply(fill.price, fill.amount))
    base = replace(base, filled_amount=amount, filled_notional=notional)
    status = _FEED.get(order.status)
    if status is None:
        return base
    reason = (order.reason_code or _REASON[status]) if status in _REASON else None
    return replace(base, feed_status=status, outcome=_outcome(status, order, base), reason=reason)


def realized(row: IntentRow, delta: Decimal, currency: str) -> IntentRow:
    """Add PnL one of the alert's fills realized (in the market's quote currency)."""
    return replace(row, realized_pnl=EXACT.add(row.realized_pnl, delta), pnl_currency=currency)


def average_price(row: IntentRow) -> Decimal | None:
    """Return the average price of the alert's fills, or None before the first."""
    if not row.filled_amount:
        return None
    return ENTRY.divide(row.filled_notional, row.filled_amount)


_OUTCOMES = {
    "placed": "Placed on {where}: {side}{size} {symbol}.",
    "partially_filled": "Partly filled on {where}: {side} {filled} {symbol}{at}.",
    "filled": "Filled on {where}: {side} {filled} {symbol}{at}.",
    "canceled": "Canceled on {where}{part}: {why}",
    "rejected": "Rejected by {where}: {why}",
    "failed": "Not placed on {where}: {why}",
    "uncertain": "Sent to {where}, not confirmed yet: {why}",
}


def _outcome(status: str, order: OrderRow, alert: IntentRow) -> str:
    filled = _text(alert.filled_amount)
    average = average_price(alert)
    at = f" at {_text(average)} on average" if average is not None else ""
    return _OUTCOMES[status].format(
        where=order.exchange_id,
        side=order.side,
        symbol=order.symbol,
        size=f" {_text(order.amount)}" if order.amount is not None else "",
        filled=filled,
        at=at,
        part=f" after {filled} filled{at}" if alert.filled_amount else "",
        why=order.reason or "no reason given",
    )


def _text(value: Decimal | None) -> str:
    if value is None or value == ZERO:
        return "0"
    return format(value.normalize(), "f")
