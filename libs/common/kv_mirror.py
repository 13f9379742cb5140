"""An in-memory copy of a NATS KV bucket, kept current by a watch.

Hot paths (the webhook, API-key checks) read the copy: no network call per request. The watch
delivers every put and delete within milliseconds; after a reconnect or a watch failure the
mirror re-reads the whole bucket and swaps it in at once, so a key deleted while we were away
disappears too.

A copy is only as good as its watch: a replica cut off from NATS would otherwise go on
accepting keys revoked since. So the mirror records when it was last *in touch* (an update
applied, a full re-read swapped in, or a successful liveness check of its watch's consumer,
made every second or so while the bucket is quiet) and `in_touch` turns false once that is
longer ago than ``staleness_s``; authentication then refuses (503) rather than trust the copy.
It comes back by itself with the next re-read after the connection returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from nats.aio.client import Client
from nats.js.kv import KV_DEL, KV_PURGE, KeyValue

from libs.common.kv_watch import BucketWatch

log = logging.getLogger(__name__)

DEFAULT_STALENESS_S = 30.0

T = TypeVar("T")
Decoder = Callable[[bytes], T]


class KVMirror(Generic[T]):
    """Keep ``{key: decode(value)}`` of one bucket in memory.

    Values that fail to decode are logged and left out (a bad record must not take a reader
    down); the key then reads as absent, which callers treat as unknown.
    """

    def __init__(
        self,
        nc: Client,
        kv: KeyValue,
        decode: Decoder[T],
        *,
        resync_check_s: float = 1.0,
        retry_s: float = 0.5,
        staleness_s: float = DEFAULT_STALENESS_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if staleness_s <= 0:
            raise ValueError("staleness_s must be positive")
        self._nc = nc
        self._kv = kv
        self._decode = decode
        # Check the watch often enough that a quiet bucket never reads as stale.
        self._resync_check_s = min(resync_check_s, staleness_s / 4)
        self._retry_s = retry_s
        self._data: dict[str, T] = {}
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._clock = clock
        self.staleness_s = staleness_s
        self.last_update_monotonic = 0.0
        """When the copy last changed (readers rebuild their indexes when it moves)."""
        self.last_contact_monotonic = 0.0
        """When the copy was last known current: an update, a re-read or a liveness check."""

    @property
    def bucket(self) -> str:
        return self._kv._name  # noqa: SLF001 - nats-py exposes the name only privately

    @property
    def ready(self) -> bool:
        """Whether the initial copy of the bucket has been loaded."""
        return self._ready.is_set()

    @property
    def in_touch(self) -> bool:
        """Whether the copy is loaded and was known current within ``staleness_s``."""
        return self.ready and self.out_of_touch_s() <= self.staleness_s

    def out_of_touch_s(self) -> float:
        """Return the seconds since the copy was last known current."""
        return self._clock() - self.last_contact_monotonic

    def get(self, key: str) -> T | None:
        return self._data.get(key)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def items(self) -> Iterator[tuple[str, T]]:
        return iter(list(self._data.items()))

    async def start(self, timeout_s: float = 10.0) -> None:
        """Start watching and wait until the initial copy is loaded."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"kv-mirror-{self.bucket}")
        await asyncio.wait_for(self._ready.wait(), timeout_s)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self._watch_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception(
                    "KV watch failed; re-reading the bucket", extra={"bucket": self.bucket}
                )
            await asyncio.sleep(self._retry_s)

    async def _watch_once(self) -> None:
        reconnects = self._nc.stats["reconnects"]
        watch = await BucketWatch.open(self._kv)
        try:
            fresh: dict[str, T] | None = {}
            while True:
                entry = await watch.read(self._resync_check_s)
                if entry is not None:
                    target = fresh if fresh is not None else self._data
                    self._apply(target, entry.key, entry.value, entry.operation)
                if fresh is not None and watch.initial_done:
                    self._swap_in(fresh)
                    fresh = None
                elif entry is None and not await self._watch_alive(watch, reconnects):
                    return  # start over with a full re-read
        finally:
            await watch.close()

    async def _watch_alive(self, watch: BucketWatch, reconnects: int) -> bool:
        """Whether the watch is still current: no reconnect since it began, its consumer alive."""
        if self._nc.stats["reconnects"] != reconnects:
            return False
        if not await watch.alive():
            log.warning("KV watch lost; re-reading the bucket", extra={"bucket": self.bucket})
            return False
        self._touch()
        return True

    def _swap_in(self, fresh: dict[str, T]) -> None:
        self._data = fresh
        self.last_update_monotonic = time.monotonic()
        self._touch()
        self._ready.set()

    def _touch(self) -> None:
        self.last_contact_monotonic = self._clock()

    def _apply(self, target: dict[str, T], key: str, value: bytes | None, op: str | None) -> None:
        self.last_update_monotonic = time.monotonic()
        if target is self._data:  # an update to a copy still being re-read is not yet current
            self._touch()
        if op in (KV_DEL, KV_PURGE) or value is None:
            target.pop(key, None)
            return
        try:
            target[key] = self._decode(value)
        except Exception:
            target.pop(key, None)
            log.exception(
                "undecodable KV value left out", extra={"bucket": self.bucket, "key": key}
            )
