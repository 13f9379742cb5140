"""Binance's error answers: ``{"code": -NNNN, "msg": "..."}`` with the HTTP status Binance uses.

ccxt's ``binance.handle_errors`` picks the exception class from these: first by the exact
message, then by the code (``binance.exceptions['exact']``). The messages are Binance's own
words, so ccxt raises here what it raises against the real exchange:

| answer | ccxt raises |
|---|---|
| -2014 / -2015, HTTP 401 | AuthenticationError |
| -1022 bad signature | AuthenticationError |
| -1021 timestamp outside recvWindow | InvalidNonce |
| -1121 unknown symbol | BadSymbol |
| -2010 insufficient balance (exact message) | InsufficientFunds |
| -2010 duplicate client order id | InvalidOrder |
| -1013 LOT_SIZE / PRICE_FILTER (matched in the body) | InvalidOrder |
| -1013 NOTIONAL | BadRequest (as against Binance) |
| -2013 / -2011 unknown order | OrderNotFound |
| -2010 stop would trigger / LIMIT_MAKER would take (exact messages) | OrderImmediatelyFillable |
| -2010 OCO prices on the wrong side of the market | InvalidOrder |
| -1158, -1165/-1166, -1168, -1196..-1199 (OCO leg types), -2018 | ExchangeError (no mapping) |
| -1003, HTTP 429 | DDoSProtection (ccxt's class for any Binance 429) |
| -1003, HTTP 418 (address banned) | DDoSProtection |
| -1100 / -1102 / -1115 / -1116 / -1117 / -1128 | BadRequest |
"""

from __future__ import annotations

import math


class BinanceError(Exception):
    """An error answer in Binance's shape; raised anywhere, rendered by the API layer."""

    def __init__(self, code: int, msg: str, status: int = 400, retry_after_s: int | None = None):
        super().__init__(f"{code}: {msg}")
        self.code = code
        self.msg = msg
        self.status = status
        self.retry_after_s = retry_after_s

    def body(self) -> dict[str, object]:
        """Return the JSON body Binance sends."""
        return {"code": self.code, "msg": self.msg}


def rate_limited(limit: int | None = 6000, retry_after_s: float = 1) -> BinanceError:
    """Answer a request over the request-weight limit (or an injected 429)."""
    return BinanceError(
        -1003,
        f"Too much request weight used; current limit is {limit} request weight per 1 MINUTE. "
        "Please use WebSocket Streams for live updates to avoid polling the API.",
        status=429,
        retry_after_s=max(1, math.ceil(retry_after_s)),
    )


def banned(until_s: float, now_s: float) -> BinanceError:
    """Answer an address banned for calling on after 429s (HTTP 418 until the ban ends)."""
    return BinanceError(
        -1003,
        f"Way too much request weight used; IP banned until {int(until_s * 1000)}. "
        "Please use WebSocket Streams for live updates to avoid bans.",
        status=418,
        retry_after_s=max(1, math.ceil(until_s - now_s)),
    )


def api_key_format_invalid() -> BinanceError:
    """Answer a signed request without a usable ``X-MBX-APIKEY`` header."""
    return BinanceError(-2014, "API-key format invalid.", status=401)


def invalid_api_key() -> BinanceError:
    """Answer an unknown or disabled API key."""
    return BinanceError(-2015, "Invalid API-key, IP, or permissions for action.", status=401)


def bad_signature() -> BinanceError:
    """Answer a request whose HMAC does not match the key's secret."""
    return BinanceError(-1022, "Signature for this request is not valid.")


def outside_recv_window() -> BinanceError:
    """Answer a request whose timestamp is too old or too far ahead."""
    return BinanceError(-1021, "Timestamp for this request is outside of the recvWindow.")


def recv_window_too_large(limit_ms: int) -> BinanceError:
    """Answer a recvWindow above the allowed maximum."""
    return BinanceError(-1131, f"recvWindow must be less than {limit_ms}.")


def mandatory(name: str) -> BinanceError:
    """Answer a request missing parameter ``name``."""
    return BinanceError(
        -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
    )


def illegal(name: str, legal: str) -> BinanceError:
    """Answer a parameter whose value is not of the legal form."""
    return BinanceError(
        -1100, f"Illegal characters found in parameter '{name}'; legal range is '{legal}'."
    )


def invalid_combination() -> BinanceError:
    """Answer parameters that exclude each other (quantity and quoteOrderQty)."""
    return BinanceError(-1128, "Combination of optional parameters invalid.")


def invalid_side() -> BinanceError:
    """Answer a side other than BUY or SELL."""
    return BinanceError(-1117, "Invalid side.")


def invalid_order_type() -> BinanceError:
    """Answer an order type the paper exchange does not offer."""
    return BinanceError(-1116, "Invalid orderType.")


def invalid_time_in_force() -> BinanceError:
    """Answer a timeInForce other than GTC, IOC or FOK."""
    return BinanceError(-1115, "Invalid timeInForce.")


def invalid_symbol() -> BinanceError:
    """Answer a symbol the exchange does not list."""
    return BinanceError(-1121, "Invalid symbol.")


def filter_failure(name: str) -> BinanceError:
    """Answer an order breaking filter ``name`` (LOT_SIZE, PRICE_FILTER, NOTIONAL)."""
    return BinanceError(-1013, f"Filter failure: {name}")


def insufficient_balance() -> BinanceError:
    """Answer an order the account cannot pay for."""
    return BinanceError(-2010, "Account has insufficient balance for requested action.")


def duplicate_order() -> BinanceError:
    """Answer a newClientOrderId the account has used before."""
    return BinanceError(-2010, "Duplicate order sent.")


def order_does_not_exist() -> BinanceError:
    """Answer a query for an order the account does not have."""
    return BinanceError(-2013, "Order does not exist.")


def unknown_order() -> BinanceError:
    """Answer a cancel of an order that does not exist or is no longer open."""
    return BinanceError(-2011, "Unknown order sent.")


def stop_would_trigger() -> BinanceError:
    """Answer a conditional order whose stop price the market has already reached."""
    return BinanceError(-2010, "Stop price would trigger immediately.")


def would_take() -> BinanceError:
    """Answer a LIMIT_MAKER order that would trade at once as a taker."""
    return BinanceError(-2010, "Order would immediately match and take.")


def oco_prices() -> BinanceError:
    """Answer an OCO whose legs are not on their sides of the last price."""
    return BinanceError(-2010, "The relationship of the prices for the orders is not correct.")


def oco_type_rejected() -> BinanceError:
    """Answer an OCO leg of a type an OCO cannot hold (MARKET, LIMIT, unknown)."""
    return BinanceError(-1158, "Order type not supported in OCO.")


def oco_both_limit() -> BinanceError:
    """Answer an OCO of two LIMIT_MAKER legs."""
    return BinanceError(-1168, "At least one OCO order must be contingent.")


_OCO_SIDES = {
    ("BUY", "limit"): (-1165, "A limit order in a buy OCO must be below."),
    ("SELL", "limit"): (-1166, "A limit order in a sell OCO must be above."),
    ("BUY", "stop loss"): (-1196, "A stop loss order in a buy OCO must be above."),
    ("SELL", "stop loss"): (-1197, "A stop loss order in a sell OCO must be below."),
    ("BUY", "take profit"): (-1198, "A take profit order in a buy OCO must be below."),
    ("SELL", "take profit"): (-1199, "A take profit order in a sell OCO must be above."),
}


def oco_leg_misplaced(side: str, kind: str) -> BinanceError:
    """Answer an OCO leg on the wrong side (``kind``: limit, stop loss or take profit)."""
    code, msg = _OCO_SIDES[side, kind]
    return BinanceError(code, msg)


def order_list_does_not_exist() -> BinanceError:
    """Answer a query for an order list the account does not have."""
    return BinanceError(-2018, "Order list does not exist.")
