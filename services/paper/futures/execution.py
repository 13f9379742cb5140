"""What happens inside one transaction: orders fill, positions move, algo orders trigger,
positions are liquidated, funding is paid. Synchronous: the writer runs on the event loop.

A refusal raises a `BinanceError` before anything is written, so the transaction rolls back
nothing half-done.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal

from services.paper import errors
from services.paper.domain import futures as domain
from services.paper.domain import spot
from services.paper.errors import BinanceError
from services.paper.futures import errors as ferrors
from services.paper.futures.models import (
    AlgoOrder,
    AlgoStatus,
    FuturesOrder,
    FuturesStatus,
    FuturesTif,
    FuturesTrade,
    FuturesType,
    Income,
    IncomeType,
    NewFuturesOrder,
    Position,
)
from services.paper.markets import Market
from services.paper.models import ZERO, Side
from services.paper.store.futures import FuturesTx

Marks = Callable[[str], Decimal]


@dataclass(frozen=True, slots=True)
class Venue:
    """What the execution needs to know about the exchange: markets, prices, fees, settings."""

    markets: Mapping[str, Market]
    mark: Marks
    fees: domain.FuturesFees
    default_leverage: int


def exposure(ftx: FuturesTx, venue: Venue, account_id: int) -> domain.Exposure:
    """Return the account's wallet, positions at their marks and resting orders' margin."""
    positions = tuple(ftx.positions(account_id))
    leverage = {p.symbol: p.leverage for p in positions}
    resting = [
        (o.orig_qty, o.price, leverage.get(o.symbol, venue.default_leverage))
        for o in ftx.open_orders(account_id)
        if not o.reduce_only
    ]
    marks = {p.symbol: venue.mark(p.symbol) for p in positions}
    return domain.Exposure(ftx.wallet(account_id), positions, marks, domain.order_margin(resting))


def _new(
    account_id: int, req: NewFuturesOrder, qty: Decimal, price: Decimal, now: int
) -> FuturesOrder:
    return FuturesOrder(
        order_id=0,
        account_id=account_id,
        symbol=req.symbol,
        client_order_id=req.client_order_id,
        side=req.side,
        type=req.type,
        time_in_force=req.time_in_force,
        price=price,
        orig_qty=qty,
        executed_qty=ZERO,
        cum_quote=ZERO,
        status=FuturesStatus.NEW,
        reduce_only=req.reduce_only,
        close_position=req.close_position,
        created_ms=now,
        updated_ms=now,
    )


def _checks(
    venue: Venue, position: Position, req: NewFuturesOrder, qty: Decimal, price: Decimal
) -> None:
    market = venue.markets[req.symbol]
    spot.check_qty(market, qty)
    if req.reduce_only:
        domain.check_reduce_only(position, req.side, qty)
    elif qty * price < market.min_notional:
        raise ferrors.min_notional(format(market.min_notional.normalize(), "f"))


def place(
    ftx: FuturesTx, venue: Venue, account_id: int, req: NewFuturesOrder, now: int
) -> FuturesOrder:
    """Place a MARKET or LIMIT order: fill it now, rest it, or raise Binance's refusal."""
    if ftx.client_id_taken(account_id, req.client_order_id):
        raise errors.duplicate_order()
    market = venue.markets[req.symbol]
    position = ftx.position(account_id, req.symbol, venue.default_leverage)
    last = venue.mark(req.symbol)
    qty = req.quantity or ZERO
    taker = spot.slipped(market, req.side, last, venue.fees.slippage_bps)
    if req.type is FuturesType.MARKET:
        _checks(venue, position, req, qty, taker)
        domain.check_margin(exposure(ftx, venue, account_id), position, req.side, qty, taker)
        order = ftx.insert_order(_new(account_id, req, qty, ZERO, now))
        return fill(ftx, venue, order, taker, maker=False, now=now)
    limit = req.price or ZERO
    spot.check_price(market, limit)
    _checks(venue, position, req, qty, limit)
    domain.check_margin(exposure(ftx, venue, account_id), position, req.side, qty, limit)
    if spot.crosses(req.side, limit, last):
        if req.time_in_force is FuturesTif.GTX:
            raise ferrors.post_only_rejected()
        price = min(taker, limit) if req.side is Side.BUY else max(taker, limit)
        order = ftx.insert_order(_new(account_id, req, qty, limit, now))
        return fill(ftx, venue, order, price, maker=False, now=now)
    order = _new(account_id, req, qty, limit, now)
    if req.time_in_force in {FuturesTif.IOC, FuturesTif.FOK}:
        order = replace(order, status=FuturesStatus.EXPIRED)
    return ftx.insert_order(order)


def fill(
    ftx: FuturesTx, venue: Venue, order: FuturesOrder, price: Decimal, *, maker: bool, now: int
) -> FuturesOrder:
    """Fill ``order`` in full at ``price``: move the position, book PnL and fee to the wallet."""
    account_id, qty = order.account_id, order.orig_qty
    position = ftx.position(account_id, order.symbol, venue.default_leverage)
    applied = domain.apply_fill(position, order.side, qty, price, now)
    quote = domain.round8(qty * price)
    rate = venue.fees.maker if maker else venue.fees.taker
    commission = domain.round8(quote * rate)
    trade = ftx.insert_trade(
        FuturesTrade(
            0, order.order_id, account_id, order.symbol, order.side, price, qty, quote,
            commission, applied.realized, maker, now,
        )
    )  # fmt: skip
    ftx.put_position(applied.position)
    _book(
        ftx,
        account_id=account_id,
        symbol=order.symbol,
        trade_id=trade.trade_id,
        now=now,
        amounts={IncomeType.REALIZED_PNL: applied.realized, IncomeType.COMMISSION: -commission},
    )
    done = replace(
        order, executed_qty=qty, cum_quote=quote, status=FuturesStatus.FILLED, updated_ms=now
    )
    ftx.update_order(done)
    return done


def _book(
    ftx: FuturesTx,
    *,
    account_id: int,
    symbol: str,
    trade_id: int,
    now: int,
    amounts: Mapping[IncomeType, Decimal],
) -> None:
    """Add ``amounts`` to the wallet, each as an income row (zero amounts leave no row)."""
    total = ZERO
    for kind, amount in amounts.items():
        if amount:
            ftx.insert_income(Income(0, account_id, symbol, kind, amount, now, trade_id))
            total += amount
    if total:
        ftx.put_wallet(account_id, ftx.wallet(account_id) + total)


def fill_resting(ftx: FuturesTx, venue: Venue, seen: FuturesOrder, now: int) -> bool:
    """Fill a resting limit order at its price as a maker (a reduce-only one that would no
    longer reduce expires instead); False when it is no longer open.
    """
    account_id, symbol = seen.account_id, seen.symbol
    order = ftx.order(account_id, symbol, seen.order_id, None)
    if order is None or order.status is not FuturesStatus.NEW:
        return False
    if order.reduce_only:
        try:
            position = ftx.position(account_id, symbol, venue.default_leverage)
            domain.check_reduce_only(position, order.side, order.orig_qty)
        except BinanceError:
            ftx.update_order(replace(order, status=FuturesStatus.EXPIRED, updated_ms=now))
            return False
    fill(ftx, venue, order, order.price, maker=True, now=now)
    return True


def _free_client_id(ftx: FuturesTx, account_id: int, wanted: str) -> str:
    if not ftx.client_id_taken(account_id, wanted):
        return wanted
    return f"{wanted[:27]}-{secrets.token_hex(4)}"


def trigger(ftx: FuturesTx, venue: Venue, algo: AlgoOrder, now: int) -> AlgoOrder:
    """Send a triggered algo order to the matching engine and record what became of it."""
    position = ftx.position(algo.account_id, algo.symbol, venue.default_leverage)
    qty = algo.quantity
    if algo.close_position:
        if position.amount == 0 or domain.closing_side(position) is not algo.side:
            return _finished(ftx, algo, AlgoStatus.EXPIRED, now)
        qty = abs(position.amount)
    limit = algo.type in {FuturesType.STOP, FuturesType.TAKE_PROFIT}
    req = NewFuturesOrder(
        symbol=algo.symbol,
        side=algo.side,
        type=FuturesType.LIMIT if limit else FuturesType.MARKET,
        client_order_id=_free_client_id(ftx, algo.account_id, algo.client_algo_id),
        quantity=qty,
        price=algo.price if limit else None,
        time_in_force=algo.time_in_force,
        reduce_only=algo.reduce_only or algo.close_position,
    )
    try:
        order = place(ftx, venue, algo.account_id, req, now)
    except BinanceError as refusal:
        status = AlgoStatus.EXPIRED if refusal.code == -2022 else AlgoStatus.REJECTED
        return _finished(ftx, algo, status, now)
    status = {
        FuturesStatus.FILLED: AlgoStatus.FINISHED,
        FuturesStatus.NEW: AlgoStatus.TRIGGERED,
    }.get(order.status, AlgoStatus.FINISHED)
    done = replace(
        algo,
        status=status,
        actual_order_id=order.order_id,
        executed_qty=order.executed_qty,
        avg_price=order.avg_price,
        updated_ms=now,
        trigger_ms=now,
    )
    ftx.update_algo(done)
    return done


def _finished(ftx: FuturesTx, algo: AlgoOrder, status: AlgoStatus, now: int) -> AlgoOrder:
    done = replace(algo, status=status, updated_ms=now, trigger_ms=now)
    ftx.update_algo(done)
    return done


def liquidate(ftx: FuturesTx, venue: Venue, position: Position, now: int) -> FuturesOrder | None:
    """Close a position whose mark crossed its liquidation price; its margin is lost.

    The position is closed at the mark by an ``autoclose-…`` market order (a trade like any
    other); what the margin still held after the loss goes as a clearance fee
    (``INSURANCE_CLEAR``): all of an isolated position's margin, the maintenance margin of
    a cross one. The wallet never goes below zero.
    """
    current = ftx.position(position.account_id, position.symbol, venue.default_leverage)
    if current.amount == 0:
        return None
    mark = venue.mark(current.symbol)
    book = exposure(ftx, venue, current.account_id)
    liquidation = domain.liquidation_price(
        current, book.cross_wallet(), venue.fees.maintenance_rate
    )
    if not domain.is_liquidated(current, liquidation, mark):
        return None
    req = NewFuturesOrder(
        symbol=current.symbol,
        side=domain.closing_side(current),
        type=FuturesType.MARKET,
        client_order_id=_free_client_id(ftx, current.account_id, f"autoclose-{now}"),
        quantity=abs(current.amount),
        reduce_only=True,
    )
    order = ftx.insert_order(_new(current.account_id, req, abs(current.amount), ZERO, now))
    realized = domain.unrealized(current, mark)
    done = fill(ftx, venue, order, mark, maker=False, now=now)
    if current.isolated_margin:
        fee = max(current.isolated_margin + realized, ZERO)
    else:
        fee = domain.round8(abs(current.amount) * mark * venue.fees.maintenance_rate)
    fee = min(fee, max(ftx.wallet(current.account_id), ZERO))
    _book(
        ftx,
        account_id=current.account_id,
        symbol=current.symbol,
        trade_id=0,
        now=now,
        amounts={IncomeType.INSURANCE_CLEAR: -fee},
    )
    if ftx.wallet(current.account_id) < 0:
        ftx.put_wallet(current.account_id, ZERO)
    return done


def pay_funding(ftx: FuturesTx, venue: Venue, position: Position, now: int) -> Income | None:
    """Pay or receive one funding: rate x notional at the mark (longs pay a positive rate)."""
    amount = domain.funding_payment(position, venue.mark(position.symbol), venue.fees.funding_rate)
    if not amount:
        return None
    income = ftx.insert_income(
        Income(0, position.account_id, position.symbol, IncomeType.FUNDING_FEE, amount, now)
    )
    ftx.put_wallet(position.account_id, ftx.wallet(position.account_id) + amount)
    return income
