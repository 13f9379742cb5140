"""What goes wrong in the notifier, by what happens next."""

from __future__ import annotations


class NotifierError(Exception):
    """A refusal with a sentence for the caller (the API answers it in the error shape)."""

    status = 422

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidTargetError(NotifierError):
    """The URL or address given for a channel cannot be used."""


class ChannelOffError(NotifierError):
    """The channel kind is not configured on this deployment (no SMTP server, no bot)."""

    status = 409


class NotFoundError(NotifierError):
    """No such channel (or another tenant's)."""

    status = 404


class ConflictError(NotifierError):
    """The request conflicts with what exists (the same target twice, a finished code)."""

    status = 409


class WrongCodeError(NotifierError):
    """A verification code that does not match."""


class UpstreamError(NotifierError):
    """Billing (or another service the notifier calls as the tenant) did not answer as hoped."""

    status = 503
