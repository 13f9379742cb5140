"""Every answer other than "accepted": an HTTP status, an outcome label and a sentence a trader
understands. Raised by the domain and adapters, turned into a response by the route.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from libs.common.messages import RefusalReason
from libs.common.records import WebhookTokenRecord


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem with one field of an alert."""

    field: str
    message: str


class WebhookError(Exception):
    """The alert was not stored; ``status`` and ``message`` say why.

    ``refusal`` names the refusal in the trader's feed (`AlertRefused`), None for what is
    not the trader's to see (an outage); ``webhook`` is set once the token is known to be
    one of a tenant's webhooks: only then is the refusal reported.
    """

    status = 500
    outcome = "error"
    refusal: RefusalReason | None = None

    def __init__(
        self,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
        refusal: RefusalReason | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.headers: Mapping[str, str] = MappingProxyType(dict(headers or {}))
        if refusal is not None:
            self.refusal = refusal
        self.webhook: WebhookTokenRecord | None = None

    def of(self, webhook: WebhookTokenRecord) -> WebhookError:
        """Return this error, known to be about ``webhook``."""
        self.webhook = webhook
        return self

    def body(self) -> dict[str, object]:
        """Return the JSON body of the answer (the common error shape of `libs.common.api`)."""
        return {"error": self.message, "errors": []}


class InvalidAlertError(WebhookError):
    """400: the body is not an alert Sparky can act on."""

    status = 400
    outcome = "invalid"
    refusal = RefusalReason.INVALID_ALERT

    def __init__(self, errors: Sequence[FieldError], message: str | None = None) -> None:
        count = len(errors)
        summary = "1 problem" if count == 1 else f"{count} problems"
        super().__init__(message or f"This alert cannot be used ({summary}); nothing was traded.")
        self.errors = tuple(errors)

    def body(self) -> dict[str, object]:
        """Return the error and each field's problem."""
        problems = [{"field": e.field, "message": e.message} for e in self.errors]
        return {"error": self.message, "errors": problems}


def invalid(field: str, message: str) -> InvalidAlertError:
    """Return a 400 about a single field."""
    return InvalidAlertError([FieldError(field, message)])


class UnauthorizedError(WebhookError):
    """401: the URL (or the passphrase) does not authenticate anyone."""

    status = 401
    outcome = "unauthorized"
    refusal = RefusalReason.PASSPHRASE  # once the token is known, only a passphrase is left


class ForbiddenError(WebhookError):
    """403: the tenant or the webhook exists but may not trade from here now."""

    status = 403
    outcome = "forbidden"


class TooLargeError(WebhookError):
    """413: the body is larger than the configured limit."""

    status = 413
    outcome = "too_large"
    refusal = RefusalReason.TOO_LARGE


class RateLimitedError(WebhookError):
    """429: the tenant sent more alerts than its plan allows; retry after some seconds."""

    status = 429
    outcome = "rate_limited"
    refusal = RefusalReason.RATE_LIMITED

    def __init__(self, message: str, retry_after_s: float) -> None:
        self.retry_after_s = max(1, math.ceil(retry_after_s))
        super().__init__(message, headers={"Retry-After": str(self.retry_after_s)})


class UnavailableError(WebhookError):
    """503: the alert was not stored; TradingView resends it."""

    status = 503
    outcome = "unavailable"

    def __init__(self, message: str) -> None:
        super().__init__(message, headers={"Retry-After": "1"})


class WebhookBusyError(UnavailableError):
    """503: the webhook has as many requests open as one webhook may; TradingView resends."""

    outcome = "webhook_busy"
