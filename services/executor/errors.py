"""The executor's errors, by what happens next.

Temporary ones are retried in place by the consumer; `OrderRejectedError` becomes an
``OrderRejected`` event (the exchange or sizing said no), `OrderFailedError` an ``OrderFailed``
event (something on our side: keys refused, credentials missing).
"""

from __future__ import annotations

from decimal import Decimal

from libs.common.errors import PermanentError, TemporaryError, UnavailableError


class ExchangeUnavailableError(TemporaryError):
    """The exchange did not answer, answered 5xx, or asked us to slow down."""


class SubmissionUnconfirmedError(TemporaryError):
    """An order creation ended without an answer: the exchange may have the order."""


class CreationRefusedError(TemporaryError):
    """The exchange turned an order creation away unprocessed (a rate limit): not placed."""


class CredentialsUnavailableError(UnavailableError):
    """Vault cannot be read and no cached copy of the keys is fresh enough: wait for it."""


class StaleRecordError(TemporaryError):
    """Another task changed the order record meanwhile; read it again."""


class OrderRejectedError(PermanentError):
    """The exchange refused the order, or it cannot be sized; retrying cannot help."""


class SizingRefusedError(OrderRejectedError):
    """Sizing refused the order after finding coins the wallet no longer held: they are
    written off the strategy position with the rejected record all the same.
    """

    def __init__(
        self, code: str, message: str, *, written_off: Decimal, position_before: Decimal
    ) -> None:
        super().__init__(code, message)
        self.written_off = written_off
        self.position_before = position_before


class OrderFailedError(PermanentError):
    """The order cannot be placed for a reason on our side."""


class AccountAuthError(OrderFailedError):
    """The exchange refused the account's API keys; the account is marked invalid."""


class DuplicateClientOrderIdError(PermanentError):
    """The exchange already has an order with this client order id: look it up."""


class OrderNotFoundError(PermanentError):
    """The exchange has no order with this id."""


class ConflictError(PermanentError):
    """An API request conflicts with what exists (a label in use, a limit reached)."""


class NotFoundError(PermanentError):
    """An API request names an account that does not exist."""
