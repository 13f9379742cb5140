"""Redis replies are parsed in C (hiredis), not in Python, by the clients the services build."""

from __future__ import annotations

from redis._parsers import _AsyncHiredisParser
from redis.asyncio import ConnectionPool


def test_redis_connections_parse_replies_with_hiredis() -> None:
    pool = ConnectionPool.from_url("redis://127.0.0.1:6379/0")
    connection = pool.make_connection()  # type: ignore[no-untyped-call]
    assert isinstance(connection._parser, _AsyncHiredisParser)  # noqa: SLF001 - the point
