"""Billing's errors, by what the caller should do next; `api.errors` maps them to HTTP."""

from __future__ import annotations

from libs.common.errors import SparkyError, TemporaryError


class BillingError(SparkyError):
    """A request billing refuses; ``message`` is written for the person who sent it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFoundError(BillingError):
    """The tenant, webhook or key does not exist (or belongs to someone else)."""


class ConflictError(BillingError):
    """The request clashes with the current state (a deleted tenant, a duplicate label)."""


class IllegalTransitionError(ConflictError):
    """A lifecycle move the tenant's state does not allow (`services.billing.fsm`)."""


class LimitReachedError(BillingError):
    """The tenant's plan does not allow one more of something."""


class InvalidRequestError(BillingError):
    """The request is well-formed but its values cannot be used (an unknown plan)."""


class NotConfiguredError(BillingError):
    """A feature needs settings the operator has not given (Stripe keys, price ids)."""


class PublishError(TemporaryError):
    """Postgres has the change but the KV buckets do not yet; reconciliation will repair them."""


class NothingCreatedError(TemporaryError):
    """A creation was undone because its secrets could not be published; safe to retry."""


class PaymentProviderError(TemporaryError):
    """Stripe could not be reached or refused the call."""


class SignatureError(BillingError):
    """A Stripe webhook whose signature, age or body is not acceptable (answered 400)."""
