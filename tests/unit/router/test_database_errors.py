"""A database that is away or full is a reason to retry, not a poison message."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DBAPIError

from libs.common.errors import TemporaryError
from services.router.errors import database_errors


class _DriverError(Exception):
    """What asyncpg's SQLAlchemy adapter raises: an error carrying the server's SQLSTATE."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"SQLSTATE {sqlstate}")
        self.sqlstate = sqlstate


def _raise(sqlstate: str) -> None:
    with database_errors():
        raise DBAPIError("SELECT 1", None, _DriverError(sqlstate))


@pytest.mark.parametrize(
    "sqlstate",
    ["53300", "57P01", "57P03", "08006"],
    ids=["too_many_clients", "admin_shutdown", "starting_up", "connection_failure"],
)
def test_a_database_away_or_full_is_retried(sqlstate: str) -> None:
    with pytest.raises(TemporaryError, match=sqlstate):
        _raise(sqlstate)


def test_a_bad_statement_is_not_retried_as_temporary() -> None:
    with pytest.raises(DBAPIError):
        _raise("42601")  # syntax error: retrying cannot help
