"""TradingView tickers → ccxt unified symbols, by the account's market type.

``BTCUSDT`` → ``BTC/USDT`` on a spot account, ``BTC/USDT:USDT`` (linear perpetual) on a futures
account; ``BTCUSD.P`` → ``BTC/USD:BTC`` (inverse) on a futures account. A ticker whose quote
currency is not recognised needs a mapping in the symbol's settings (``ccxt_symbol``).
"""

from __future__ import annotations

from collections.abc import Iterable

from libs.common.messages import Instrument
from libs.common.records import MarketType

# Longest first, so FDUSD wins over USD and USDT over USD.
KNOWN_QUOTES = tuple(
    sorted(
        (
            "USDT", "USDC", "FDUSD", "BUSD", "TUSD", "USDE", "DAI", "USD", "EUR", "GBP",
            "TRY", "BRL", "JPY", "AUD", "BTC", "ETH", "BNB",
        ),
        key=len,
        reverse=True,
    )
)  # fmt: skip
INVERSE_QUOTES = frozenset({"USD"})


class SymbolError(ValueError):
    """The ticker cannot be traded on this account; the message says why, in words."""


def split_pair(symbol: str) -> tuple[str, str] | None:
    """Return (base, quote) of ``BTCUSDT`` or ``BTC/USDT``, or None when no quote is known."""
    if "/" in symbol:
        base, _, quote = symbol.partition("/")
        return (base, quote.split(":")[0]) if base and quote else None
    for quote in KNOWN_QUOTES:
        if symbol.endswith(quote) and len(symbol) > len(quote):
            return symbol[: -len(quote)], quote
    return None


def unified_symbol(instrument: Instrument, market: MarketType, override: str | None) -> str:
    """Return the ccxt symbol to trade ``instrument`` on a ``market`` account, or raise."""
    if override:
        return override
    symbol = instrument.symbol.upper()
    if market is MarketType.SPOT and is_contract(instrument):
        raise SymbolError(
            f"{instrument.raw} is a futures contract, but this account trades spot; "
            "use the spot ticker or a futures account"
        )
    if ":" in symbol:
        return symbol
    pair = _pair(instrument, symbol)
    if pair is None:
        raise SymbolError(
            f"cannot tell the quote currency of {instrument.raw}; "
            "set ccxt_symbol in this symbol's settings (for example BTC/USDT)"
        )
    base, quote = pair
    if market is MarketType.SPOT:
        return f"{base}/{quote}"
    settle = base if quote in INVERSE_QUOTES else quote
    return f"{base}/{quote}:{settle}"


def is_contract(instrument: Instrument) -> bool:
    """Whether the ticker names a futures contract (``BTCUSDT.P``, ``BTC/USDT:USDT``)."""
    return instrument.perpetual or ":" in instrument.symbol


def _pair(instrument: Instrument, symbol: str) -> tuple[str, str] | None:
    if instrument.base and instrument.quote:
        return instrument.base.upper(), instrument.quote.upper()
    return split_pair(symbol)


def names_of(instrument: Instrument, unified: str) -> frozenset[str]:
    """Return every name an allow- or blocklist entry may use for this instrument."""
    raw = instrument.raw.upper()
    names = {instrument.symbol.upper(), raw, raw.split(":", 1)[-1], unified.upper()}
    names.add(unified.upper().split(":")[0])
    return frozenset(names)


def listed(entries: Iterable[str], names: frozenset[str]) -> bool:
    """Whether any entry names the instrument."""
    return any(entry.upper() in names for entry in entries)
