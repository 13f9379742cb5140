"""How an order event changes the order's row, and the history line it leaves."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from typing import Any

from libs.common.fsm import IllegalTransitionError, OrderState, reported_state, transition
from libs.common.messages import (
    OrderCanceled,
    OrderFailed,
    OrderFilled,
    OrderRejected,
    OrderSubmitted,
    OrderUncertain,
    PositionDrift,
    ProtectionFailed,
)
from libs.common.messages.events import Fill, OrderEvent
from services.ledger.domain.positions import EXACT, ZERO
from services.ledger.domain.rows import Detail, OrderEventRow, OrderRow

log = logging.getLogger(__name__)


def next_order(
    before: OrderRow | None, event: OrderEvent, new_fills: list[Fill]
) -> tuple[OrderRow, str | None]:
    """Return the order after ``event`` and, when its status could not change, why.

    The status follows the order state machine shared with the executor (`libs.common.fsm`);
    an order the ledger has no event of yet is ``pending``, as the executor recorded it.
    """
    row = before or _new_order(event)
    target, note = reported_state(event), None
    status = row.status
    if target is not None:
        try:
            status = transition(row.status, target)
        except IllegalTransitionError as exc:
            note = f"status kept: {exc}"
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
        status=OrderState.PENDING,
        filled_amount=ZERO,
        filled_notional=ZERO,
        created_at=event.occurred_at,
        updated_at=event.occurred_at,
        role=event.role.value,
        parent_client_order_id=event.parent_client_order_id,
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
            "trigger_price": event.trigger_price,
            "reduce_only": event.reduce_only,
            "leverage": event.leverage,
        }
    if isinstance(event, OrderRejected):
        return {"reason": event.reason, "reason_code": event.code}
    if isinstance(event, OrderFailed | OrderUncertain):
        return {"reason": event.reason}
    if isinstance(event, OrderCanceled):
        return {"exchange_order_id": event.exchange_order_id, "reason": event.reason}
    return {}


def history_row(
    seq: int, event: OrderEvent, status: OrderState, new_fills: int, note: str | None
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
    if isinstance(event, OrderFilled):
        total = sum((fill.amount for fill in event.fills), ZERO)
        return {
            "exchange_order_id": event.exchange_order_id,
            "fills": len(event.fills),
            "new_fills": new_fills,
            "amount": _text(total),
            "complete": event.complete,
        }
    describe = _DESCRIBE.get(type(event))
    return describe(event) if describe is not None else {}


def _submitted(event: OrderSubmitted) -> Detail:
    detail: Detail = {
        "exchange_order_id": event.exchange_order_id,
        "order_type": event.order_type.value,
        "amount": _text(event.amount),
        "price": _text(event.price),
        "sizing": event.note,
    }
    # Only where they say something: a plain entry's history reads as before.
    if event.trigger_price is not None:
        detail["trigger_price"] = _text(event.trigger_price)
    if event.reduce_only:
        detail["reduce_only"] = True
    if event.leverage is not None:
        detail["leverage"] = _text(event.leverage)
    return detail


def _protection_failed(event: ProtectionFailed) -> Detail:
    return {"protection": event.protection.value, "reason": event.reason}


def _drift(event: PositionDrift) -> Detail:
    return {
        "source": event.source.value,
        "expected": _text(event.expected),
        "actual": _text(event.actual),
        "written_off": _text(event.written_off),
        "healed": event.healed,
        "message": event.message,
    }


def _canceled(event: OrderCanceled) -> Detail:
    return {
        "exchange_order_id": event.exchange_order_id,
        "filled_amount": _text(event.filled_amount),
        "reason": event.reason,
    }


def _reason(event: OrderFailed | OrderUncertain) -> Detail:
    return {"reason": event.reason}


def _rejected(event: OrderRejected) -> Detail:
    return {"reason": event.reason, "code": event.code}


_DESCRIBE: dict[type[OrderEvent], Callable[[Any], Detail]] = {
    OrderSubmitted: _submitted,
    PositionDrift: _drift,
    OrderRejected: _rejected,
    OrderCanceled: _canceled,
    OrderFailed: _reason,
    OrderUncertain: _reason,
    ProtectionFailed: _protection_failed,
}


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")
