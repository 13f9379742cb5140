"""Errors of the ledger, each with a sentence a trader understands."""

from __future__ import annotations


class BadRequestError(ValueError):
    """The request cannot be answered as asked; the message says why and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidCursorError(BadRequestError):
    """A page cursor that we did not issue, or that was altered."""

    def __init__(self) -> None:
        super().__init__(
            "This page cursor is not valid: use the next_cursor of a previous page as is, "
            "or leave it out to start from the newest."
        )
