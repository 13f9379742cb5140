"""Group commit: rows that are ready together go to Postgres in one statement.

Orders of different tenants are handled concurrently; each records itself as ``pending``
before its exchange call. `GroupedInsert` hands the rows that arrive while no statement of its
own is running to the next statement, then resolves each caller with its own answer. Under
load the groups grow by themselves (rows queue while a statement is out); alone, an order
waits for nothing but the end of the current event-loop turn.

Every caller still waits for its own row before going on, so exactly-once is unchanged: the
row is committed before the exchange is called. When the statement fails because the database
is away, every caller gets that failure (retried, as before); when it fails for any other
reason (a row the database refuses), each row is tried on its own, so a bad row fails its own
order only, never its neighbours.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from libs.common.db import database_unavailable

Row = TypeVar("Row")
Answer = TypeVar("Answer")
Many = Callable[[Sequence[Row]], Awaitable[list[Answer]]]


class GroupedInsert(Generic[Row, Answer]):
    """Queue rows, write them with ``many`` (one statement, answers in the rows' order),
    at most ``max_rows`` at a time and one statement at a time.
    """

    def __init__(self, many: Many[Row, Answer], *, max_rows: int = 256) -> None:
        self._many = many
        self._max_rows = max_rows
        self._queue: list[tuple[Row, asyncio.Future[Answer]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def add(self, row: Row) -> Answer:
        """Write ``row`` with whatever else is ready; return its own answer."""
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._queue.append((row, future))
        if self._writer is None:
            # Its own task: a caller cancelled while waiting never cancels the others' write.
            self._writer = asyncio.create_task(self._write_all())
        return await future

    async def _write_all(self) -> None:
        try:
            while self._queue:
                group, self._queue = (
                    self._queue[: self._max_rows],
                    self._queue[self._max_rows :],
                )
                await self._write(group)
        finally:
            self._writer = None

    async def _write(self, group: list[tuple[Row, asyncio.Future[Answer]]]) -> None:
        try:
            answers = await self._many([row for row, _ in group])
        except asyncio.CancelledError:
            for _, future in group:  # the loop is going away: nobody waits forever
                future.cancel()
            raise
        except Exception as exc:  # noqa: BLE001 - handed to the callers, raised there
            if len(group) == 1 or database_unavailable(exc):
                for _, future in group:
                    _fail(future, exc)
                return
            for one in group:  # find the row at fault; the others go through
                await self._write([one])
            return
        for (_, future), answer in zip(group, answers, strict=True):
            if not future.done():
                future.set_result(answer)


def _fail(future: asyncio.Future[Answer], exc: Exception) -> None:
    if not future.done():
        future.set_exception(exc)
