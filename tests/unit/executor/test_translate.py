"""ccxt's exceptions become what the executor does next, with the exchange's words."""

from __future__ import annotations

import ccxt.async_support as ccxt
import pytest

from libs.common.errors import SparkyError, TemporaryError
from services.executor.adapters.translate import exchange_words, translate
from services.executor.adapters.venues import VENUES
from services.executor.errors import (
    AccountAuthError,
    CreationRefusedError,
    DuplicateClientOrderIdError,
    ExchangeUnavailableError,
    OrderNotFoundError,
    OrderRejectedError,
    SubmissionUnconfirmedError,
)

BINANCE = VENUES["binance"]


@pytest.mark.parametrize(
    ("raised", "expected", "code"),
    [
        (ccxt.InsufficientFunds, OrderRejectedError, "insufficient_funds"),
        (ccxt.InvalidOrder, OrderRejectedError, "invalid_order"),
        (ccxt.BadSymbol, OrderRejectedError, "bad_symbol"),
        (ccxt.MarketClosed, OrderRejectedError, "market_closed"),
        (ccxt.NotSupported, OrderRejectedError, "not_supported"),
        (ccxt.BadRequest, OrderRejectedError, "bad_request"),
        (ccxt.ExchangeError, OrderRejectedError, "exchange_error"),
        (ccxt.OrderNotFound, OrderNotFoundError, "order_not_found"),
        (ccxt.DuplicateOrderId, DuplicateClientOrderIdError, "duplicate_client_order_id"),
        (ccxt.AuthenticationError, AccountAuthError, "authentication_failed"),
        (ccxt.PermissionDenied, AccountAuthError, "permission_denied"),
        (ccxt.AccountSuspended, AccountAuthError, "authentication_failed"),
    ],
)
def test_permanent_refusals_keep_a_code_and_the_exchanges_words(
    raised: type[ccxt.BaseError], expected: type[SparkyError], code: str
) -> None:
    error = translate(raised('binance {"code":-1,"msg":"Something in words."}'), BINANCE)
    assert type(error) is expected
    assert getattr(error, "code", None) == code
    assert "Something in words." in getattr(error, "message", "")


@pytest.mark.parametrize(
    "raised",
    [
        ccxt.NetworkError,
        ccxt.RequestTimeout,
        ccxt.ExchangeNotAvailable,
        ccxt.OnMaintenance,
        ccxt.InvalidNonce,
        ccxt.BadResponse,
    ],
)
def test_network_trouble_is_temporary_but_never_a_blind_retry_of_a_creation(
    raised: type[ccxt.BaseError],
) -> None:
    assert type(translate(raised("x"), BINANCE)) is ExchangeUnavailableError
    created = translate(raised("x"), BINANCE, creating=True)
    assert type(created) is SubmissionUnconfirmedError
    assert isinstance(created, TemporaryError)


@pytest.mark.parametrize("raised", [ccxt.RateLimitExceeded, ccxt.DDoSProtection])
def test_a_rate_limit_asks_for_a_pause_and_means_the_order_was_not_taken(
    raised: type[ccxt.BaseError],
) -> None:
    read = translate(raised("slow down"), BINANCE)
    assert type(read) is ExchangeUnavailableError
    assert read.retry_after == 1.0
    created = translate(raised("slow down"), BINANCE, creating=True)
    assert type(created) is CreationRefusedError
    assert created.retry_after == 1.0


def test_binance_duplicate_client_order_id_is_recognised_in_an_invalid_order() -> None:
    raised = ccxt.InvalidOrder('binance {"code":-2010,"msg":"Duplicate order sent."}')
    assert type(translate(raised, BINANCE, creating=True)) is DuplicateClientOrderIdError


def test_binance_refusing_keys_after_an_earlier_success_is_still_a_refusal_of_the_keys() -> None:
    # ccxt raises -2015 as DDoSProtection once the client has authenticated before.
    raised = ccxt.DDoSProtection(
        'binance {"code":-2015,"msg":"Invalid API-key, IP, or permissions for action."}'
    )
    error = translate(raised, BINANCE, creating=True)
    assert type(error) is AccountAuthError
    assert error.message == (
        "The exchange refused these API keys: Invalid API-key, IP, or permissions for action."
    )


def test_the_exchanges_words_are_its_message_without_the_exchange_id() -> None:
    assert exchange_words(ccxt.InsufficientFunds("binance Account has no money."), "binance") == (
        "Account has no money."
    )
    assert exchange_words(ccxt.ExchangeError('okx {"sMsg": "Nope"}'), "okx") == "Nope"
    long = exchange_words(ccxt.ExchangeError("x" * 1000))
    assert len(long) == 300
