"""Which database errors mean "unavailable, retry later" (a 503, a retry) rather than a bug."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from libs.common.db import database_unavailable


@dataclass
class DriverError(Exception):
    """What the asyncpg dialect puts in ``DBAPIError.orig``: an error with its SQLSTATE."""

    sqlstate: str | None


def refused_with(sqlstate: str | None) -> DBAPIError:
    return DBAPIError("SELECT 1", None, DriverError(sqlstate))


@pytest.mark.parametrize(
    "exc",
    [
        ConnectionRefusedError(111, "Connection refused"),
        PoolTimeoutError("QueuePool limit reached"),
        refused_with("53300"),  # sorry, too many clients already
        refused_with("57P03"),  # the database system is starting up
        refused_with("08006"),  # connection failure
    ],
)
def test_an_outage_or_a_full_server_is_worth_a_retry(exc: BaseException) -> None:
    assert database_unavailable(exc)


@pytest.mark.parametrize(
    "exc",
    [refused_with("42P01"), refused_with("22P02"), refused_with(None), ValueError("bug")],
)
def test_a_wrong_query_or_value_is_not_an_outage(exc: BaseException) -> None:
    assert not database_unavailable(exc)
