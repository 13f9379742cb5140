"""A round of work repeated every few seconds in the background (the tracker, the marks)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class Periodic:
    """Run ``round_`` every ``interval_s`` until stopped; a failing round is logged and the
    next one runs as usual (a cancellation always stops it)."""

    def __init__(self, name: str, round_: Callable[[], Awaitable[object]], interval_s: float):
        self._name = name
        self._round = round_
        self._interval_s = interval_s
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self._name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self._round()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s: a round failed", self._name)
            await asyncio.sleep(self._interval_s)
