"""ccxt's exceptions, translated into what the executor does next.

Order matters: ccxt's classes nest (``PermissionDenied`` is an ``AuthenticationError``,
``OrderNotFound`` an ``InvalidOrder``, every network trouble a ``NetworkError``), so the most
specific come first. A network trouble while *creating* an order means we do not know whether
the exchange has it: `SubmissionUnconfirmedError`, resolved by a look-up, never a blind retry.
"""

from __future__ import annotations

import json
from typing import Final

import ccxt.async_support as ccxt

from libs.common.errors import SparkyError
from libs.common.redaction import redact
from services.executor.adapters.venues import Venue
from services.executor.errors import (
    AccountAuthError,
    CreationRefusedError,
    DuplicateClientOrderIdError,
    ExchangeUnavailableError,
    OrderNotFoundError,
    OrderRejectedError,
    SubmissionUnconfirmedError,
)

MAX_REASON = 300
RATE_LIMIT_PAUSE_S = 1.0

_REJECTIONS: Final[tuple[tuple[type[ccxt.BaseError], str, str], ...]] = (
    (ccxt.InsufficientFunds, "insufficient_funds", "The exchange says the balance is too low"),
    (ccxt.BadSymbol, "bad_symbol", "The exchange does not know this symbol"),
    (ccxt.InvalidOrder, "invalid_order", "The exchange refused the order"),
    (ccxt.MarketClosed, "market_closed", "The market is closed"),
    (ccxt.NotSupported, "not_supported", "The exchange does not support this order"),
    (ccxt.BadRequest, "bad_request", "The exchange refused the request"),
    (ccxt.ExchangeError, "exchange_error", "The exchange refused the order"),
)


def exchange_words(exc: BaseException, exchange_id: str = "") -> str:
    """Return the exchange's own message (``msg`` of its JSON answer when there is one)."""
    text = str(exc).removeprefix(f"{exchange_id} ") if exchange_id else str(exc)
    start = text.find("{")
    if start >= 0:
        try:
            body = json.loads(text[start:])
        except ValueError:
            body = None
        if isinstance(body, dict):
            found = body.get("msg") or body.get("message") or body.get("sMsg")
            if isinstance(found, str) and found:
                text = found
    return redact(text.strip())[:MAX_REASON]


def translate(exc: ccxt.BaseError, venue: Venue, *, creating: bool = False) -> SparkyError:
    """Return the executor error that says what to do about ``exc``."""
    words = exchange_words(exc, venue.exchange_id)
    if isinstance(exc, ccxt.AuthenticationError) or venue.refuses_keys(str(exc)):
        return _refused_keys(exc, words)
    if isinstance(exc, ccxt.NetworkError | ccxt.BadResponse | ccxt.OperationFailed):
        return _temporary(exc, words, creating=creating)
    if isinstance(exc, ccxt.DuplicateOrderId) or venue.is_duplicate(str(exc)):
        return DuplicateClientOrderIdError("duplicate_client_order_id", words)
    if isinstance(exc, ccxt.OrderNotFound):
        return OrderNotFoundError("order_not_found", words)
    for kind, code, lead in _REJECTIONS:
        if isinstance(exc, kind):
            return OrderRejectedError(code, f"{lead}: {words}")
    return OrderRejectedError("exchange_error", f"The exchange refused the order: {words}")


def _refused_keys(exc: ccxt.BaseError, words: str) -> AccountAuthError:
    if isinstance(exc, ccxt.PermissionDenied):
        return AccountAuthError(
            "permission_denied", f"The exchange refused these API keys the permission: {words}"
        )
    return AccountAuthError(
        "authentication_failed", f"The exchange refused these API keys: {words}"
    )


def _temporary(exc: ccxt.BaseError, words: str, *, creating: bool) -> SparkyError:
    refused = isinstance(exc, ccxt.RateLimitExceeded | ccxt.DDoSProtection)
    if creating and refused:  # a 418/429 is answered before the order is looked at
        return CreationRefusedError(
            f"the exchange turned the order away for now ({type(exc).__name__}): {words}",
            retry_after=RATE_LIMIT_PAUSE_S,
        )
    if creating:
        return SubmissionUnconfirmedError(
            f"the exchange did not confirm the order ({type(exc).__name__}): {words}"
        )
    pause = RATE_LIMIT_PAUSE_S if refused else None
    return ExchangeUnavailableError(
        f"the exchange is unavailable ({type(exc).__name__}): {words}", retry_after=pause
    )
