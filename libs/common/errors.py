"""The error taxonomy: what a handler does next decides the class, not where it came from.

- `TemporaryError`: retry in place with backoff (network, 5xx, rate limits, NATS timeouts).
  `UnavailableError`, one of them, is a server Sparky runs on (Postgres, NATS, Redis, Vault)
  being away: waited for however long it takes, never a reason to give up.
- `PermanentError`: retrying cannot help; turn it into a `*Rejected` event a trader can read,
  then ack the message.
- Anything else is a bug: let it crash loudly so the orchestrator restarts the process and the
  unacked message is redelivered.
"""

from __future__ import annotations


class SparkyError(Exception):
    """Base of every error Sparky raises on purpose."""


class TemporaryError(SparkyError):
    """A failure that may succeed if tried again later."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


class UnavailableError(TemporaryError):
    """Postgres, NATS, Redis or Vault cannot be reached: wait for it to come back.

    Time spent waiting for one does not count towards a consumer's give-up limit: a database
    failover delays orders, it never turns them into failures.
    """


class MalformedMessageError(SparkyError):
    """A message that no retry can ever handle: unreadable, or not what its subject says (a
    tenant's subject carrying another tenant's message). The consumption layer dead-letters it
    at once instead of retrying it as a possible bug."""


class PermanentError(SparkyError):
    """A failure that will not go away by retrying; `code` is machine-readable, `message` is not."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class ConfigurationError(SparkyError):
    """Settings that cannot work (a default secret in production, a bad namespace)."""
