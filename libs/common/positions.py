"""How a fill moves a strategy's position: the one rule the executor, the ledger and the router
apply, so that what the executor sells and what the ledger shows agree to the last unit.

A position is counted in the symbol's base currency. A fee charged in the base currency
(Binance charges a spot buy's fee in the coin bought) leaves the wallet too: a buy of 0.001
BTC with a fee of 0.000001 BTC leaves the strategy holding 0.000999 BTC, and that is what a
later ``close`` sells. A fee in any other currency does not change the position.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from libs.common.messages import Fill, Side

ZERO = Decimal(0)


def is_contract(symbol: str) -> bool:
    """Whether a ccxt unified symbol names a contract (``BTC/USDT:USDT``), which may be short."""
    return ":" in symbol


def base_of(symbol: str) -> str:
    """Return the base currency of a ccxt unified symbol (``BTC/USDT:USDT`` → ``BTC``)."""
    pair = symbol.split(":", 1)[0]
    return pair.partition("/")[0].upper()


def held_change(
    side: Side, amount: Decimal, fee: Decimal, fee_currency: str | None, base: str
) -> Decimal:
    """Return what a fill of ``amount`` adds to a position in ``base`` (negative for a sell),
    net of its fee when the fee was charged in ``base``.
    """
    change = amount if side is Side.BUY else -amount
    if fee and fee_currency and fee_currency.upper() == base.upper():
        change -= fee
    return change


def fill_change(symbol: str, side: Side, fill: Fill) -> Decimal:
    """Return what one fill adds to the position of ``symbol``, net of a fee in its coin."""
    return held_change(side, fill.amount, fill.fee, fill.fee_currency, base_of(symbol))


def fills_change(symbol: str, side: Side, fills: Iterable[Fill]) -> Decimal:
    """Return what ``fills`` add to the position together."""
    return sum((fill_change(symbol, side, fill) for fill in fills), ZERO)


def coin_fees(symbol: str, fills: Iterable[Fill]) -> Decimal:
    """Return the fees of ``fills`` charged in the coin of ``symbol`` (its base currency)."""
    base = base_of(symbol)
    return sum((f.fee for f in fills if f.fee_currency and f.fee_currency.upper() == base), ZERO)
