"""Fetch what sizing needs (price, balance) and call the pure rules in `domain`."""

from __future__ import annotations

from libs.common.messages import PlaceOrder
from services.executor.adapters.exchange import ExchangeSession
from services.executor.domain import (
    LiveData,
    SizedOrder,
    SizingRejectedError,
    SizingRequest,
    needs_balance,
    needs_ticker,
    size_order,
)
from services.executor.errors import OrderRejectedError


def request_of(command: PlaceOrder) -> SizingRequest:
    """Return the sizing request a `PlaceOrder` makes."""
    return SizingRequest(
        rule=command.sizing.rule,
        value=command.sizing.value,
        side=command.side,
        order_type=command.order_type,
        limit_price=command.limit_price,
        reduce_only=command.reduce_only,
        max_base=command.max_base,
        max_quote=command.max_quote,
    )


async def size(command: PlaceOrder, session: ExchangeSession) -> SizedOrder:
    """Return the order to send, or raise `OrderRejectedError` with the reason in words."""
    request = request_of(command)
    market = session.market(command.symbol)
    price = await session.last_price(command.symbol) if needs_ticker(request) else None
    live = LiveData(price=price)
    if needs_balance(request):
        balance = await session.balance()
        live = LiveData(
            price=price, base_total=balance.of(market.base), quote_total=balance.of(market.quote)
        )
    try:
        return size_order(request, live, market, session.rounding(command.symbol))
    except SizingRejectedError as exc:
        raise OrderRejectedError(exc.code, exc.reason) from exc
