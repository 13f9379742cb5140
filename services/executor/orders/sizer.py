"""Fetch what sizing needs (price, balance, the strategy position) and call the pure rules."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from decimal import Decimal

from libs.common.messages import PlaceOrder
from libs.common.records import MarketType
from services.executor.adapters import contracts
from services.executor.adapters.exchange import ExchangeSession
from services.executor.domain import Held
from services.executor.errors import OrderRejectedError, SizingRefusedError
from services.executor.orders.contract_sizing import ContractLive, size_contract_order
from services.executor.orders.sizing import SizedOrder, SizingRejectedError, SizingRequest
from services.executor.orders.spot_sizing import (
    LiveData,
    needs_balance,
    needs_position,
    needs_ticker,
    size_order,
)

PositionReader = Callable[[str, str, str], Awaitable[Held]]
"""(tenant, account label, symbol) → the strategy position."""


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
        expected_position=command.expected_position,
        heal=command.heal_drift,
    )


def check_fresh(command: PlaceOrder, now: datetime) -> None:
    """Refuse an order whose signal is older than the tenant allows (it would be a different
    trade now), saying both times.
    """
    limit = command.max_signal_age_s
    signal = command.signal_at or command.received_at
    age = (now - signal).total_seconds()
    if limit is None or age <= limit:
        return
    raise OrderRejectedError(
        "stale_signal",
        f"The signal fired at {signal:%Y-%m-%d %H:%M:%S} UTC and the order was ready at "
        f"{now:%Y-%m-%d %H:%M:%S} UTC, {age:.0f} s later, past your limit of {limit} s "
        "(max_signal_age_s in your trade settings); it was not placed. If your alert's "
        "time field is {{time}} (the bar's open), use {{timenow}}.",
    )


async def size(
    command: PlaceOrder, session: ExchangeSession, position_of: PositionReader
) -> SizedOrder:
    """Return the order to send, or raise `OrderRejectedError` with the reason in words."""
    request = request_of(command)
    session.market(command.symbol)  # an unknown symbol is refused before any other call
    price = await session.last_price(command.symbol) if needs_ticker(request) else None
    try:
        if session.venue.market is MarketType.FUTURES:
            return await _size_contract(command, request, session, position_of, price)
        return await _size_spot(command, request, session, position_of, price)
    except SizingRejectedError as exc:
        if exc.written_off and exc.position_before is not None:
            raise SizingRefusedError(
                exc.code,
                exc.reason,
                written_off=exc.written_off,
                position_before=exc.position_before,
            ) from exc
        raise OrderRejectedError(exc.code, exc.reason) from exc


async def _size_contract(
    command: PlaceOrder,
    request: SizingRequest,
    session: ExchangeSession,
    position_of: PositionReader,
    price: Decimal | None,
) -> SizedOrder:
    """Futures: the margin balance, the venue's position and the strategy's."""
    market = session.market(command.symbol)
    balance = await session.balance()
    venue = await contracts.position(session, command.symbol)
    held = await position_of(command.tenant_id, command.account_label, command.symbol)
    live = ContractLive(
        price=price,
        equity=balance.of(market.quote),
        position=held.quantity,
        venue_position=venue.quantity,
    )
    return size_contract_order(request, live, market, session.rounding(command.symbol))


async def _size_spot(
    command: PlaceOrder,
    request: SizingRequest,
    session: ExchangeSession,
    position_of: PositionReader,
    price: Decimal | None,
) -> SizedOrder:
    market = session.market(command.symbol)
    live = LiveData(price=price)
    if needs_balance(request):
        balance = await session.balance()
        held = (
            await position_of(command.tenant_id, command.account_label, command.symbol)
            if needs_position(request)
            else Held()
        )
        live = LiveData(
            price=price,
            base_free=balance.free_of(market.base),
            base_total=balance.of(market.base),
            quote_total=balance.of(market.quote),
            position=held.quantity,
            coin_fees=held.coin_fees,
        )
    return size_order(request, live, market, session.rounding(command.symbol))
