"""The rows a batch inserts before it is folded: one per fill, one per funding payment.

Pure. Their ids are stable across replays (a fill's is its event's id and its index), so the
insert that skips a fill or a payment recorded before tells the fold which ones are new.
"""

from __future__ import annotations

from collections.abc import Iterable

from libs.common.messages import FundingPaid, OrderFilled
from libs.common.messages.events import Fill
from services.ledger.domain.rows import FundingRow, Sequenced, TradeRow


def trade_uid(message_id: str, index: int) -> str:
    """Return the row id of the ``index``-th fill of an event: stable across replays."""
    return f"{message_id}-{index:04d}"


def trade_rows(events: Iterable[Sequenced]) -> list[TradeRow]:
    """Return a row per fill of the batch's `OrderFilled` events, in stream order."""
    return [
        _trade_row(item.event, index, fill)
        for item in events
        if isinstance(item.event, OrderFilled)
        for index, fill in enumerate(item.event.fills)
    ]


def _trade_row(event: OrderFilled, index: int, fill: Fill) -> TradeRow:
    return TradeRow(
        id=trade_uid(event.message_id, index),
        tenant_id=event.tenant_id,
        account_label=event.account_label,
        exchange_id=event.exchange_id,
        symbol=event.symbol,
        side=event.side.value,
        price=fill.price,
        amount=fill.amount,
        fee=fill.fee,
        fee_currency=fill.fee_currency,
        trade_id=fill.trade_id,
        client_order_id=event.client_order_id,
        exchange_order_id=event.exchange_order_id,
        intent_id=event.intent_id,
        filled_at=fill.filled_at,
        message_id=event.message_id,
    )


def funding_rows(events: Iterable[Sequenced]) -> list[FundingRow]:
    """Return a row per `FundingPaid` event of the batch, in stream order."""
    return [
        FundingRow(
            id=item.event.message_id,
            tenant_id=item.event.tenant_id,
            account_label=item.event.account_label,
            exchange_id=item.event.exchange_id,
            symbol=item.event.symbol,
            amount=item.event.amount,
            currency=item.event.currency.upper(),
            funding_id=item.event.funding_id,
            paid_at=item.event.paid_at,
        )
        for item in events
        if isinstance(item.event, FundingPaid)
    ]
