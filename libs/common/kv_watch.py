"""A watch of every key of a KV bucket that knows when its initial values are all in.

nats-py's ``KeyWatcher`` has two traps this module keeps away from its callers:

- Its "no more initial values" marker (``None``) can come *before* the values it claims to
  follow: nats-py compares the consumer's pending count with what the client has read so far,
  and the server may answer the count before it flushes the values (seen under load). So the
  marker is trusted only for a bucket that holds nothing; otherwise the value that left nothing
  pending (``delta == 0``) ends the initial values.
- ``KeyWatcher.updates(timeout)`` is ``asyncio.wait_for`` around a queue read, which on
  Python 3.11 can swallow a cancellation that races with an arriving value: a task stopped at
  that moment would go on watching forever. Here the next read is one task kept across
  timeouts (``asyncio.wait`` cancels nothing and drops nothing).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from nats.js.kv import KeyValue


class BucketWatch:
    """Every put and delete of one bucket, from the latest value of each key onwards."""

    def __init__(self, kv: KeyValue, watcher: KeyValue.KeyWatcher) -> None:
        self._kv = kv
        self._watcher = watcher
        self._next: asyncio.Future[Any] | None = None
        self.initial_done = False
        """Whether every value the bucket held when the watch began has been returned."""

    @classmethod
    async def open(cls, kv: KeyValue) -> BucketWatch:
        return cls(kv, await kv.watchall())

    async def read(self, timeout_s: float) -> KeyValue.Entry | None:
        """Return the next put or delete, or None when none came within ``timeout_s`` (or the
        bucket turned out to hold nothing: ``initial_done`` tells).
        """
        while True:
            if self._next is None:
                self._next = asyncio.ensure_future(anext(self._watcher))
            done, _ = await asyncio.wait({self._next}, timeout=timeout_s)
            if not done:
                return None
            entry: KeyValue.Entry | None = self._next.result()
            self._next = None
            if entry is None:  # nats-py's marker: believe it only of an empty bucket
                if not self.initial_done and await self._bucket_is_empty():
                    self.initial_done = True
                    return None
                continue
            if entry.delta == 0:
                self.initial_done = True
            return entry

    async def alive(self) -> bool:
        """Whether the server still has the watch's consumer: after a reconnect, a server
        restart or an operator's clean-up it may have dropped it without telling us.
        """
        subscription = self._watcher._sub  # noqa: SLF001 - nats-py keeps it private
        if subscription is None:
            return False
        try:
            await subscription.consumer_info()
        except Exception:  # noqa: BLE001 - any failure means the watch is gone
            return False
        return True

    async def _bucket_is_empty(self) -> bool:
        return (await self._kv.status()).values == 0

    async def close(self) -> None:
        pending, self._next = self._next, None
        if pending is not None:
            pending.cancel()
            await asyncio.wait({pending})  # raises only if *this* task is cancelled
            if not pending.cancelled():
                pending.exception()  # retrieved: a read that ended as we closed means nothing
        with contextlib.suppress(Exception):
            await self._watcher.stop()  # type: ignore[no-untyped-call]
