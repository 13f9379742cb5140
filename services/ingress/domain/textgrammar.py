"""The plain-text alert: one line a trader can type into TradingView's message box.

    <action> <ticker> [<size>] [<key>=<value> ...]

    size := <number>            base quantity              buy BTCUSDT 0.01
          | <number>%           percent of equity (buy, sell) or of the position (closes)
          | <number> <asset>    in that asset: the base or the quote currency
                                                           buy BINANCE:BTCUSDT 100 USDT

Options are the JSON fields (``price=42000 order_type=limit sl=1% tp=2% leverage=5``); a
value with spaces goes in quotes (``comment="breakout long"``). The options signal channels
write as a word and a value work that way too (``entry 60000 tp 62000 sl 59000``, also
``TP: 62000``): `KEYWORDS`. TradingView's default strategy message (``buy @ 0.5 filled on
BTCUSDT. New strategy position is 0.5``) is understood too.
"""

from __future__ import annotations

import re
import shlex

from services.ingress.domain.instruments import parse_instrument
from services.ingress.domain.values import FieldValueError, Value, shown
from services.ingress.errors import invalid

MAX_TEXT_LENGTH = 1000
_EXAMPLE = "like 'buy BTCUSDT 0.01'"
_TRADINGVIEW_DEFAULT = re.compile(
    r"(?:.*?\border\s+)?(?P<action>buy|sell)\s+@\s+(?P<quantity>\S+)\s+filled\s+on\s+"
    r"(?P<symbol>\S+?)\.?\s+new\s+strategy\s+position\s+is\s+(?P<position_size>\S+?)\.?",
    re.IGNORECASE | re.DOTALL,
)
_ASSET = re.compile(r"[A-Za-z][A-Za-z0-9]{0,31}")
# Options that may be written as a word, then the value: ``tp 62000``, ``SL: 59000``.
KEYWORDS = frozenset({"entry", "tp", "sl", "trail", "qty", "leverage"})

Pairs = list[tuple[str, Value]]


def parse_text(text: str) -> Pairs:
    """Return the (field, value) pairs of a text alert; raise `InvalidAlertError` if unreadable."""
    if len(text) > MAX_TEXT_LENGTH:
        raise invalid(
            "body", f"A text alert has at most {MAX_TEXT_LENGTH} characters; use JSON for more."
        )
    default = _TRADINGVIEW_DEFAULT.fullmatch(text)
    if default:
        return list(default.groupdict().items())
    try:
        tokens = shlex.split(text)
    except ValueError:
        raise invalid("body", "The message has a quote that is not closed.") from None
    return _pairs(tokens)


def _pairs(tokens: list[str]) -> Pairs:
    if not tokens or "=" in tokens[0]:
        message = f"The message must start with an action (buy, sell, close…), {_EXAMPLE}."
        raise invalid("action", message)
    if len(tokens) < 2 or "=" in tokens[1]:
        message = f"symbol is missing: write the ticker after the action, {_EXAMPLE}."
        raise invalid("symbol", message)
    pairs: Pairs = [("action", tokens[0]), ("symbol", tokens[1])]
    rest = tokens[2:]
    if rest and not _is_option(rest[0]):
        size, rest = _size(tokens[1], rest)
        pairs += size
    while rest:
        pair, rest = _option(rest)
        pairs.append(pair)
    return pairs


def _keyword(token: str) -> str | None:
    """Return the option a bare word (``tp``, ``SL:``) names, or None."""
    word = token.removesuffix(":").lower()
    return word if word in KEYWORDS else None


def _is_option(token: str) -> bool:
    return "=" in token or _keyword(token.partition(":")[0]) is not None


def _option(rest: list[str]) -> tuple[tuple[str, Value], list[str]]:
    """Read ``key=value``, ``tp:2%`` or ``tp 2%`` at the start of ``rest``."""
    token, rest = rest[0], rest[1:]
    key, equals, value = token.partition("=")
    if equals and key:
        return (key, value), rest
    word, colon, value = token.partition(":")
    keyword = _keyword(word)
    if keyword is not None and colon and value:
        return (keyword, value), rest
    if keyword is not None and rest and not _is_option(rest[0]):
        return (keyword, rest[0]), rest[1:]
    if keyword is not None:
        raise invalid(keyword, f"{shown(token)} needs a value after it, like 'tp 62000'.")
    raise invalid("body", f"{shown(token)} is not understood: write options as key=value.")


def _size(ticker: str, rest: list[str]) -> tuple[Pairs, list[str]]:
    """Read ``0.01``, ``50%`` or ``100 USDT`` at the start of ``rest``."""
    quantity, rest = rest[0], rest[1:]
    if not rest or _is_option(rest[0]):
        return [("quantity", quantity)], rest
    unit, rest = rest[0], rest[1:]
    if quantity.endswith("%") or not _ASSET.fullmatch(unit):
        raise invalid("quantity", f"{shown(quantity + ' ' + unit)} is not a size, {_EXAMPLE}.")
    return [("quantity", quantity), ("quantity_type", _unit_type(ticker, unit))], rest


def _unit_type(ticker: str, unit: str) -> str:
    """Tell whether ``unit`` is the base or the quote currency of ``ticker``."""
    try:
        instrument = parse_instrument(ticker)
    except FieldValueError:
        message = f"symbol {shown(ticker)} is not a ticker like BINANCE:BTCUSDT."
        raise invalid("symbol", message) from None
    name, symbol = unit.upper(), instrument.symbol
    if name == instrument.base or (instrument.base is None and symbol.startswith(name)):
        return "base"
    if name == instrument.quote or (instrument.quote is None and symbol.endswith(name)):
        return "quote"
    message = f"quantity is in {shown(unit)}, which is neither side of {shown(ticker)}."
    raise invalid("quantity", message)
