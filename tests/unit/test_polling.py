"""The tests' polling helper: returns what it waited for, fails naming what and how far."""

from __future__ import annotations

import itertools

import pytest

from tests.helpers.polling import eventually


async def test_a_getter_is_polled_until_it_finds_something_and_that_is_returned() -> None:
    readings = iter([None, None, "found"])

    assert await eventually(lambda: next(readings), what="a reading", interval_s=0) == "found"


async def test_an_async_check_is_awaited() -> None:
    calls = itertools.count()

    async def third_time() -> bool:
        return next(calls) >= 2

    assert await eventually(third_time, what="the third call", interval_s=0) is True


async def test_until_decides_when_a_reading_is_enough() -> None:
    counter = itertools.count()

    got = await eventually(
        lambda: next(counter), what="three", until=lambda n: n >= 3, interval_s=0
    )

    assert got == 3


async def test_a_timeout_names_what_was_awaited_and_the_last_reading() -> None:
    with pytest.raises(AssertionError, match=r"the order filled: not within 0.05 s .*'open'"):
        await eventually(
            lambda: "open", what="the order filled", until=lambda s: s == "filled", timeout_s=0.05
        )


async def test_an_expected_exception_means_not_yet_and_is_reported_on_timeout() -> None:
    def refused() -> bool:
        raise ConnectionRefusedError("still starting")

    with pytest.raises(AssertionError, match="still starting") as failure:
        await eventually(refused, what="the server", timeout_s=0.05, retry_on=(OSError,))

    assert isinstance(failure.value.__cause__, ConnectionRefusedError)


async def test_an_unexpected_exception_propagates_at_once() -> None:
    def broken() -> bool:
        raise KeyError("a bug, not a delay")

    with pytest.raises(KeyError):
        await eventually(broken, what="anything", timeout_s=60)
