"""The router's errors, and the translation of driver failures into what happens next."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from libs.common.db import database_unavailable
from libs.common.errors import MalformedMessageError, PermanentError, UnavailableError


class VersionConflictError(PermanentError):
    """The layer changed since the caller read it (optimistic concurrency, ``If-Match``)."""

    def __init__(self, current: int) -> None:
        super().__init__(
            "version_conflict",
            f"These settings changed since you read them (now version {current}); "
            "reload them and apply your change again.",
        )
        self.current = current


class SettingsInvalidError(PermanentError):
    """A settings document that cannot be stored where it was sent."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("invalid_settings", "; ".join(errors))
        self.errors = errors


class UnreadableIntentError(MalformedMessageError):
    """A message on INTENTS that is no `OrderIntent`: dead-lettered, never decided."""

    def __init__(self, field_errors: int) -> None:
        super().__init__(f"not an OrderIntent: {field_errors} field errors")


class TenantMismatchError(MalformedMessageError):
    """An intent claiming another tenant than its subject's: never decided, dead-lettered.

    Only ingress publishes on INTENTS, always on the intent's own tenant's subject; anything
    else is a forgery or a bug, and deciding it would trade (or reject) in another tenant's name.
    """

    def __init__(self, claimed: str, subject_tenant: str) -> None:
        super().__init__(f"an intent of tenant {claimed!r} on tenant {subject_tenant!r}'s subject")
        self.claimed = claimed
        self.subject_tenant = subject_tenant


@contextmanager
def database_errors() -> Iterator[None]:
    """Turn a lost, unreachable or full database into `UnavailableError` (wait for it)."""
    try:
        yield
    except Exception as exc:
        if database_unavailable(exc):
            sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None)
            detail = f"SQLSTATE {sqlstate}" if sqlstate else type(exc).__name__
            raise UnavailableError(f"database unavailable ({detail})") from exc
        raise


@contextmanager
def redis_errors() -> Iterator[None]:
    """Turn an unreachable Redis into `UnavailableError` (wait for it)."""
    try:
        yield
    except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
        raise UnavailableError(f"redis unavailable: {type(exc).__name__}") from exc
