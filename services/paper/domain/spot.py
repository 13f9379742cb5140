"""Pure decisions of the simulated matching engine: filters, fills, fees and balances.

Liquidity is infinite at the current price: a market order fills at once, in one fill, at
the price (moved by the configured slippage); a limit order that crosses the price fills at
once as a taker, one that does not rests with its cost locked, and later fills in full at its
own price as a maker. Fees follow Binance without BNB: a buy pays commission in the base asset
it receives, a sell in the quote asset it receives.

Conditional orders (STOP_LOSS, TAKE_PROFIT and their _LIMIT forms) rest with their cost locked,
not working, until the price reaches their stop price; then they are *activated*: the lock is
given back and the order trades as a market order, or as a limit order at its own price.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from services.paper import errors
from services.paper.markets import PRECISION, Market
from services.paper.models import (
    ZERO,
    Balance,
    Fill,
    NewOrder,
    Order,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)

_EIGHT = Decimal(1).scaleb(-PRECISION)
_BPS = Decimal(10_000)

Wallet = Mapping[str, Balance]
"""The balances of one account, by asset; a missing asset is an empty balance."""


@dataclass(frozen=True, slots=True)
class Fees:
    """Fee rates (0.001 is 0.1 %) and the slippage market orders suffer, in basis points."""

    taker: Decimal = Decimal("0.001")
    maker: Decimal = Decimal("0.001")
    slippage_bps: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class Placement:
    """What a new order becomes: its status, its fill if any, and the account's new balances."""

    status: OrderStatus
    price: Decimal
    orig_qty: Decimal
    fill: Fill | None
    balances: tuple[Balance, ...]
    working: bool = True


def round8(value: Decimal) -> Decimal:
    """Round to Binance's 8 decimals (half up)."""
    return value.quantize(_EIGHT, rounding=ROUND_HALF_UP)


def check_price(market: Market, price: Decimal) -> None:
    """Raise PRICE_FILTER unless ``price`` is within bounds and on the tick."""
    low = market.lowest_price
    if not low <= price <= market.max_price or (price - low) % market.tick_size:
        raise errors.filter_failure("PRICE_FILTER")


def check_qty(market: Market, qty: Decimal) -> None:
    """Raise LOT_SIZE unless ``qty`` is within bounds and on the step."""
    low = market.lowest_qty
    if not low <= qty <= market.max_qty or (qty - low) % market.step_size:
        raise errors.filter_failure("LOT_SIZE")


def check_notional(market: Market, notional: Decimal) -> None:
    """Raise NOTIONAL when the order is worth less than the market's minimum."""
    if notional < market.min_notional:
        raise errors.filter_failure("NOTIONAL")


def crosses(side: Side, limit: Decimal, price: Decimal) -> bool:
    """Tell whether a limit order at ``limit`` trades when the market is at ``price``."""
    return price <= limit if side is Side.BUY else price >= limit


def slipped(market: Market, side: Side, price: Decimal, bps: Decimal) -> Decimal:
    """Return the fill price of a taker: worse by ``bps``, rounded to the tick against it."""
    shift = price * bps / _BPS
    moved = price + shift if side is Side.BUY else price - shift
    rounding = ROUND_CEILING if side is Side.BUY else ROUND_FLOOR
    ticks = (moved / market.tick_size).to_integral_value(rounding=rounding)
    return max(ticks * market.tick_size, market.tick_size)


def qty_for_quote(market: Market, quote_qty: Decimal, price: Decimal) -> Decimal:
    """Return the base quantity ``quote_qty`` buys at ``price``, floored to the step."""
    steps = (quote_qty / price / market.step_size).to_integral_value(rounding=ROUND_FLOOR)
    return steps * market.step_size


def make_fill(
    market: Market, side: Side, qty: Decimal, price: Decimal, rate: Decimal, *, maker: bool
) -> Fill:
    """Price one execution, with the commission in the asset the account receives."""
    quote_qty = round8(qty * price)
    if side is Side.BUY:
        commission, asset = round8(qty * rate), market.base
    else:
        commission, asset = round8(quote_qty * rate), market.quote
    return Fill(price, qty, quote_qty, commission, asset, maker)


def _wallet(market: Market, wallet: Wallet) -> tuple[Balance, Balance]:
    base = wallet.get(market.base, Balance(market.base))
    quote = wallet.get(market.quote, Balance(market.quote))
    return base, quote


def _checked(*balances: Balance) -> tuple[Balance, ...]:
    if any(b.free < ZERO or b.locked < ZERO for b in balances):
        raise errors.insufficient_balance()
    return balances


def settle(
    market: Market, wallet: Wallet, side: Side, fill: Fill, *, from_locked: bool = False
) -> tuple[Balance, ...]:
    """Move the assets of ``fill``; a resting order pays from what it locked."""
    base, quote = _wallet(market, wallet)
    pay, paid = (quote, fill.quote_qty) if side is Side.BUY else (base, fill.qty)
    if from_locked:
        pay = replace(pay, locked=pay.locked - paid)
    else:
        pay = replace(pay, free=pay.free - paid)
    if side is Side.BUY:
        return _checked(pay, replace(base, free=base.free + fill.qty - fill.commission))
    return _checked(pay, replace(quote, free=quote.free + fill.quote_qty - fill.commission))


def _locked_amount(market: Market, side: Side, qty: Decimal, price: Decimal) -> tuple[str, Decimal]:
    if side is Side.BUY:
        return market.quote, round8(qty * price)
    return market.base, qty


def lock(
    market: Market, wallet: Wallet, side: Side, qty: Decimal, price: Decimal, *, sign: int = 1
) -> tuple[Balance, ...]:
    """Move a resting order's cost from free to locked (``sign=-1`` moves it back)."""
    asset, amount = _locked_amount(market, side, qty, price)
    balance = wallet.get(asset, Balance(asset))
    moved = amount * sign
    return _checked(replace(balance, free=balance.free - moved, locked=balance.locked + moved))


def lock_price(order: Order) -> Decimal:
    """Return the price a resting order's cost is locked at: its limit, else its stop price."""
    return order.price if order.type.has_limit_price else order.stop_price


def release(market: Market, wallet: Wallet, order: Order) -> tuple[Balance, ...]:
    """Unlock what a resting order locked, when it is canceled (or activated)."""
    return lock(market, wallet, order.side, order.orig_qty, lock_price(order), sign=-1)


def fill_resting(
    market: Market, wallet: Wallet, order: Order, fees: Fees, *, from_locked: bool = True
) -> tuple[Fill, tuple[Balance, ...]]:
    """Fill a resting limit order in full at its own price, as a maker (paid from its lock,
    or from free balances when its lock was released first)."""
    fill = make_fill(market, order.side, order.orig_qty, order.price, fees.maker, maker=True)
    return fill, settle(market, wallet, order.side, fill, from_locked=from_locked)


def triggered(kind: OrderType, side: Side, stop: Decimal, price: Decimal) -> bool:
    """Tell whether a conditional order fires at ``price``: a stop-loss sells when the price
    falls to its stop and buys when it rises to it; a take-profit the other way round."""
    falls = kind.is_stop_loss == (side is Side.SELL)
    return price <= stop if falls else price >= stop


def place(market: Market, order: NewOrder, last: Decimal, wallet: Wallet, fees: Fees) -> Placement:
    """Decide what a new order does at market price ``last``; raise a BinanceError if refused."""
    if order.type is OrderType.MARKET:
        return _place_market(market, order, last, wallet, fees)
    if order.type.is_conditional:
        return _place_conditional(market, order, last, wallet)
    if order.type is OrderType.LIMIT_MAKER and crosses(order.side, order.price or ZERO, last):
        _check_limit(market, order)
        raise errors.would_take()
    return _place_limit(market, order, last, wallet, fees)


def activate(market: Market, order: Order, last: Decimal, wallet: Wallet, fees: Fees) -> Placement:
    """Decide what a conditional order does once triggered at ``last``, from a wallet whose
    lock for it was already released: trade at the market, or work as a limit order.

    A market buy that costs more than the account holds now expires.
    """
    if not order.type.has_limit_price:
        price = slipped(market, order.side, last, fees.slippage_bps)
        fill = make_fill(market, order.side, order.orig_qty, price, fees.taker, maker=False)
        try:
            balances = settle(market, wallet, order.side, fill)
        except errors.BinanceError:
            return Placement(OrderStatus.EXPIRED, ZERO, order.orig_qty, None, ())
        return Placement(OrderStatus.FILLED, ZERO, order.orig_qty, fill, balances)
    return _work_limit(
        market, order.side, order.orig_qty, order.price, order.time_in_force, last, wallet, fees
    )


def _place_market(
    market: Market, order: NewOrder, last: Decimal, wallet: Wallet, fees: Fees
) -> Placement:
    price = slipped(market, order.side, last, fees.slippage_bps)
    qty = order.quantity
    if qty is None:
        qty = qty_for_quote(market, order.quote_qty or ZERO, price)
    check_qty(market, qty)
    check_notional(market, qty * price)
    fill = make_fill(market, order.side, qty, price, fees.taker, maker=False)
    balances = settle(market, wallet, order.side, fill)
    return Placement(OrderStatus.FILLED, ZERO, qty, fill, balances)


def _check_limit(market: Market, order: NewOrder) -> None:
    limit, qty = order.price or ZERO, order.quantity or ZERO
    check_price(market, limit)
    check_qty(market, qty)
    check_notional(market, qty * limit)


def _place_limit(
    market: Market, order: NewOrder, last: Decimal, wallet: Wallet, fees: Fees
) -> Placement:
    _check_limit(market, order)
    limit, qty = order.price or ZERO, order.quantity or ZERO
    return _work_limit(market, order.side, qty, limit, order.time_in_force, last, wallet, fees)


def _work_limit(  # noqa: PLR0917 - one limit order, as the engine sees it
    market: Market,
    side: Side,
    qty: Decimal,
    limit: Decimal,
    tif: TimeInForce,
    last: Decimal,
    wallet: Wallet,
    fees: Fees,
) -> Placement:
    if crosses(side, limit, last):
        taker = slipped(market, side, last, fees.slippage_bps)
        price = min(taker, limit) if side is Side.BUY else max(taker, limit)
        fill = make_fill(market, side, qty, price, fees.taker, maker=False)
        balances = settle(market, wallet, side, fill)
        return Placement(OrderStatus.FILLED, limit, qty, fill, balances)
    if tif is not TimeInForce.GTC:
        return Placement(OrderStatus.EXPIRED, limit, qty, None, ())
    balances = lock(market, wallet, side, qty, limit)
    return Placement(OrderStatus.NEW, limit, qty, None, balances)


def check_conditional(market: Market, order: NewOrder) -> Decimal:
    """Check a conditional order's filters; return the price its cost is locked at."""
    stop, qty = order.stop_price or ZERO, order.quantity or ZERO
    check_price(market, stop)
    limit = order.price if order.type.has_limit_price else None
    if limit is not None:
        check_price(market, limit)
    check_qty(market, qty)
    check_notional(market, qty * (limit or stop))
    return limit or stop


def _place_conditional(market: Market, order: NewOrder, last: Decimal, wallet: Wallet) -> Placement:
    at = check_conditional(market, order)
    qty, stop = order.quantity or ZERO, order.stop_price or ZERO
    if triggered(order.type, order.side, stop, last):
        raise errors.stop_would_trigger()
    balances = lock(market, wallet, order.side, qty, at)
    limit = order.price if order.type.has_limit_price and order.price else ZERO
    return Placement(OrderStatus.NEW, limit, qty, None, balances, working=False)


def new_order(
    account_id: int, request: NewOrder, placed: Placement, now: int, list_id: int = -1
) -> Order:
    """Return the order a placement makes (its exchange id is the store's to give)."""
    fill = placed.fill
    return Order(
        order_id=0,
        account_id=account_id,
        symbol=request.symbol,
        client_order_id=request.client_order_id,
        side=request.side,
        type=request.type,
        time_in_force=request.time_in_force,
        price=placed.price,
        orig_qty=placed.orig_qty,
        orig_quote_qty=request.quote_qty or ZERO,
        executed_qty=fill.qty if fill else ZERO,
        cumm_quote_qty=fill.quote_qty if fill else ZERO,
        status=placed.status,
        created_ms=now,
        updated_ms=now,
        stop_price=request.stop_price or ZERO,
        order_list_id=list_id,
        working=placed.working,
    )
