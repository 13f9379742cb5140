"""TradingView tickers: keep what was sent, and split it into the parts the router needs.

``BINANCE:BTCUSDT.P`` → exchange ``BINANCE``, symbol ``BTCUSDT``, base ``BTC``, quote
``USDT``, perpetual. ``BTC/USDT`` → base ``BTC``, quote ``USDT``. ``BTC/USDT:USDT`` (ccxt's
swap notation) → perpetual. Perpetuals are also written ``BTCUSDTPERP``, ``BTCUSDT_PERP``,
``BTCUSDT-PERP`` and ``BTC-USDT-SWAP`` (OKX); ``BTC-PERP`` names no quote currency, so the
router needs the symbol's ``ccxt_symbol`` for it. A ``_DL`` suffix (TradingView's delayed data
feeds) is dropped.
"""

from __future__ import annotations

import re

from libs.common.messages import Instrument
from services.ingress.domain.values import FieldValueError, check_placeholder, shown

MAX_LENGTH = 64
DELAYED_SUFFIX = "_DL"
# Longest first, so BTCUSDT splits as BTC + USDT, not BTCUS + DT.
KNOWN_QUOTES = (
    "FDUSD",
    "USDT",
    "USDC",
    "BUSD",
    "TUSD",
    "DAI",
    "USD",
    "EUR",
    "GBP",
    "JPY",
    "TRY",
    "BRL",
    "BTC",
    "ETH",
    "BNB",
)
_EXCHANGE = re.compile(r"[A-Z0-9_]{1,32}")
_SYMBOL = re.compile(r"[A-Z0-9][A-Z0-9._/!&+-]{0,63}")
_ASSET = re.compile(r"[A-Z0-9]{1,32}")
# Longest first: BTCUSDT-PERP loses "-PERP", not "PERP".
PERPETUAL_SUFFIXES = (".P", "-PERP", "_PERP", "PERP")
_OKX_SWAP = re.compile(r"(?P<base>[A-Z0-9]{1,32})-(?P<quote>[A-Z0-9]{1,32})-SWAP")


def parse_instrument(raw: str) -> Instrument:
    """Return the instrument a ticker names; raise `FieldValueError` when it names none."""
    text = raw.strip()
    if not text:
        raise FieldValueError("is empty")
    check_placeholder(text)
    if len(text) > MAX_LENGTH:
        raise FieldValueError(f"is longer than {MAX_LENGTH} characters")
    upper = text.upper()
    head, colon, tail = upper.partition(":")
    if colon and "/" not in head:
        exchange, rest = _exchange(head), tail
    else:
        exchange, rest = None, upper
    if "/" in rest:
        return _pair(text, rest, exchange)
    okx = _OKX_SWAP.fullmatch(rest.removesuffix(DELAYED_SUFFIX))
    if okx:
        base, quote = okx["base"], okx["quote"]
        return Instrument(
            raw=text, exchange=exchange, symbol=base + quote, base=base, quote=quote, perpetual=True
        )
    symbol, perpetual = _strip_suffixes(rest)
    if not _SYMBOL.fullmatch(symbol):
        raise FieldValueError(f"{shown(text)} is not a ticker like BINANCE:BTCUSDT or BTC/USDT")
    base, quote = _infer_pair(symbol)
    return Instrument(
        raw=text, exchange=exchange, symbol=symbol, base=base, quote=quote, perpetual=perpetual
    )


def _exchange(prefix: str) -> str:
    name = prefix.removesuffix(DELAYED_SUFFIX)
    if not _EXCHANGE.fullmatch(name):
        raise FieldValueError(f"has an exchange prefix {shown(prefix)} that is not a name")
    return name


def _strip_suffixes(symbol: str) -> tuple[str, bool]:
    symbol = symbol.removesuffix(DELAYED_SUFFIX)
    for suffix in PERPETUAL_SUFFIXES:
        if symbol.endswith(suffix) and len(symbol) > len(suffix) + 1:
            return symbol.removesuffix(suffix), True
    return symbol, False


def _pair(raw: str, symbol: str, exchange: str | None) -> Instrument:
    """``BTC/USDT``, or ccxt's ``BTC/USDT:USDT`` for a contract settled in USDT (perpetual)."""
    pair, colon, settle = symbol.partition(":")
    base, _, quote = pair.partition("/")
    assets = (base, quote, settle) if colon else (base, quote)
    if not all(_ASSET.fullmatch(asset) for asset in assets):
        raise FieldValueError(f"{shown(raw)} is not a pair like BTC/USDT")
    return Instrument(
        raw=raw, exchange=exchange, symbol=symbol, base=base, quote=quote, perpetual=bool(colon)
    )


def _infer_pair(symbol: str) -> tuple[str | None, str | None]:
    """Split ``BTCUSDT`` at a well-known quote currency; leave ``AAPL`` or ``ES1!`` alone."""
    for quote in KNOWN_QUOTES:
        base = symbol.removesuffix(quote)
        if base != symbol and len(base) >= 2 and _ASSET.fullmatch(base):
            return base, quote
    return None, None
