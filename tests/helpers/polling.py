"""Wait for something asynchronous to happen: the one polling loop of the tests.

A test that waits polls a condition and fails naming what it waited for and what it last saw,
never sleeps a fixed time hoping the condition holds by then. Domain helpers
(`tests.helpers.ingress.until_status`, `tests.helpers.executor.wait_for_events`, ...) are
one-liners over `eventually`.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast, overload

T = TypeVar("T")

_NOTHING_YET = object()


@overload
async def eventually(
    check: Callable[[], Awaitable[T]],
    *,
    what: str,
    timeout_s: float = ...,
    interval_s: float = ...,
    until: Callable[[T], object] = ...,
    retry_on: tuple[type[Exception], ...] = ...,
) -> T: ...


@overload
async def eventually(
    check: Callable[[], T],
    *,
    what: str,
    timeout_s: float = ...,
    interval_s: float = ...,
    until: Callable[[T], object] = ...,
    retry_on: tuple[type[Exception], ...] = ...,
) -> T: ...


async def eventually(
    check: Callable[[], object],
    *,
    what: str,
    timeout_s: float = 10.0,
    interval_s: float = 0.05,
    until: Callable[[Any], object] = bool,
    retry_on: tuple[type[Exception], ...] = (),
) -> object:
    """Call ``check`` (sync or async) until ``until(value)`` holds; return that value.

    ``until`` defaults to the value's truth, so a predicate returns True and a getter returns
    what it found. An exception of ``retry_on`` (a server still starting) counts as "not yet";
    any other propagates at once. After ``timeout_s`` fail with an AssertionError naming
    ``what`` and the last value or exception seen, so the failure shows how far it got.
    """
    deadline = time.monotonic() + timeout_s
    last: object = _NOTHING_YET
    while True:
        try:
            value = check()
            if inspect.isawaitable(value):
                value = await cast(Awaitable[object], value)
        except retry_on as exc:
            last = exc
        else:
            if until(value):
                return value
            last = value
        if time.monotonic() >= deadline:
            break
        await asyncio.sleep(interval_s)
    error = AssertionError(f"{what}: not within {timeout_s} s (last seen: {last!r})")
    if isinstance(last, BaseException):
        raise error from last
    raise error
