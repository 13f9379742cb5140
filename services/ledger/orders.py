"""How an order event changes the order's row, and the history line it leaves."""

from __future__ import annotations

import logging
from dataclasses import replace
from decimal import Decimal
from typing import Any

from libs.common.messages import (
    OrderCanceled,
    OrderFailed,
    OrderFilled,
    OrderRejected,
    OrderSubmitted,
)
from libs.common.messages.events import Fill, OrderEvent
from services.ledger.domain import EXACT, ZERO
from services.ledger.lifecycle import IllegalTransitionError, OrderChange, OrderStatus, transition
from services.ledger.rows import Detail, OrderEventRow, OrderRow

log = logging.getLogger(__name__)


def change_of(event: OrderEvent) -> OrderChange:
    """Return what ``event`` reports, as far as the order's status goes."""
    if isinstance(event, OrderFilled):
        return OrderChange.FINAL_FILL if event.complete else OrderChange.PARTIAL_FILL
    return OrderChange(event.kind)  # type: ignore[attr-defined]


def next_order(
    before: OrderRow | None, event: OrderEvent, new_fills: list[Fill]
) -> tuple[OrderRow, str | None]:
    """Return the order after ``event`` and, when its status could not change, why."""
    row = before or _new_order(event)
    try:
        status = transition(before.status if before else None, change_of(event))
        note = None
    except IllegalTransitionError as exc:
        status, note = row.status, f"status kept: {exc}"
        log.warning(
            "order event out of lifecycle: %s",
            exc,
            extra={"tenant_id": event.tenant_id, "intent_id": event.intent_id},
        )
    updated_at = max(row.updated_at, event.occurred_at)
    changes = _details(row, event, new_fills)
    return replace(row, status=status, updated_at=updated_at, **changes), note


def _new_order(event: OrderEvent) -> OrderRow:
    return OrderRow(
        tenant_id=event.tenant_id,
        client_order_id=event.client_order_id,
        intent_id=event.intent_id,
        account_label=event.account_label,
        exchange_id=event.exchange_id,
        symbol=event.symbol,
        side=event.side.value,
        status=OrderStatus.SUBMITTED,  # replaced by the first transition
        filled_amount=ZERO,
        filled_notional=ZERO,
        created_at=event.occurred_at,
        updated_at=event.occurred_at,
    )


def _details(row: OrderRow, event: OrderEvent, new_fills: list[Fill]) -> dict[str, Any]:
    """Return the columns ``event`` changes (one `replace` per event: it is the hot path)."""
    if isinstance(event, OrderFilled):
        amount, notional = row.filled_amount, row.filled_notional
        for fill in new_fills:
            amount = EXACT.add(amount, fill.amount)
            notional = EXACT.add(notional, EXACT.multiply(fill.price, fill.amount))
        return {
            "exchange_order_id": event.exchange_order_id,
            "filled_amount": amount,
            "filled_notional": notional,
        }
    if isinstance(event, OrderSubmitted):
        return {
            "exchange_order_id": event.exchange_order_id,
            "order_type": event.order_type.value,
            "amount": event.amount,
            "price": event.price,
        }
    if isinstance(event, OrderRejected):
        return {"reason": event.reason, "reason_code": event.code}
    if isinstance(event, OrderFailed):
        return {"reason": event.reason}
    if isinstance(event, OrderCanceled):
        return {"exchange_order_id": event.exchange_order_id, "reason": event.reason}
    return {}


def history_row(
    seq: int, event: OrderEvent, status: OrderStatus, new_fills: int, note: str | None
) -> OrderEventRow:
    """Return the history line ``event`` leaves on its order."""
    detail = _detail(event, new_fills)
    if note:
        detail["note"] = note
    return OrderEventRow(
        message_id=event.message_id,
        tenant_id=event.tenant_id,
        intent_id=event.intent_id,
        client_order_id=event.client_order_id,
        kind=event.kind,  # type: ignore[attr-defined]
        status=status.value,
        occurred_at=event.occurred_at,
        stream_seq=seq,
        detail=detail,
    )


def _detail(event: OrderEvent, new_fills: int) -> Detail:
    """What a trader wants to read about the event; decimals as exact strings."""
    if isinstance(event, OrderSubmitted):
        return {
            "exchange_order_id": event.exchange_order_id,
            "order_type": event.order_type.value,
            "amount": _text(event.amount),
            "price": _text(event.price),
        }
    if isinstance(event, OrderFilled):
        total = sum((fill.amount for fill in event.fills), ZERO)
        return {
            "exchange_order_id": event.exchange_order_id,
            "fills": len(event.fills),
            "new_fills": new_fills,
            "amount": _text(total),
            "complete": event.complete,
        }
    if isinstance(event, OrderRejected):
        return {"reason": event.reason, "code": event.code}
    if isinstance(event, OrderCanceled):
        return {
            "exchange_order_id": event.exchange_order_id,
            "filled_amount": _text(event.filled_amount),
            "reason": event.reason,
        }
    if isinstance(event, OrderFailed):
        return {"reason": event.reason}
    return {}


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")
