"""A bucket watch returns every initial value before it says they are all in, and stops
when its task is cancelled, whatever arrives at that moment.
"""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from nats.js import JetStreamContext
from nats.js.kv import KeyValue

from libs.common.kv_watch import BucketWatch
from libs.common.topology import Topology


@pytest.fixture
async def bucket(js: JetStreamContext, topology: Topology) -> KeyValue:
    return await js.key_value(topology.tenants_bucket)


async def read_initial(watch: BucketWatch) -> dict[str, bytes | None]:
    values: dict[str, bytes | None] = {}
    while not watch.initial_done:
        entry = await watch.read(2.0)
        if entry is None:
            assert watch.initial_done, "no value and no end of the initial values in 2 s"
            break
        values[entry.key] = entry.value
    return values


async def test_the_initial_values_end_with_the_last_of_them(bucket: KeyValue) -> None:
    for i in range(30):
        await bucket.put(f"k{i}", str(i).encode())
    watch = await BucketWatch.open(bucket)
    try:
        assert await read_initial(watch) == {f"k{i}": str(i).encode() for i in range(30)}
    finally:
        await watch.close()


async def test_an_empty_bucket_has_no_initial_values(bucket: KeyValue) -> None:
    watch = await BucketWatch.open(bucket)
    try:
        assert await read_initial(watch) == {}
        await bucket.put("later", b"1")
        entry = await watch.read(2.0)
        assert entry is not None
        assert entry.key == "later"
    finally:
        await watch.close()


async def test_an_early_marker_is_not_believed_of_a_bucket_with_values(
    bucket: KeyValue,
) -> None:
    """nats-py can queue its "no more initial values" marker ahead of the values (the server
    answered the pending count before it flushed them); this puts it there on purpose.
    """
    for i in range(10):
        await bucket.put(f"k{i}", b"v")
    watcher = await bucket.watchall()
    watcher._updates._queue.appendleft(None)  # type: ignore[attr-defined]  # noqa: SLF001
    watch = BucketWatch(bucket, watcher)
    try:
        assert len(await read_initial(watch)) == 10
    finally:
        await watch.close()


async def test_a_reader_cancelled_as_values_arrive_always_stops(bucket: KeyValue) -> None:
    """``asyncio.wait_for`` on Python 3.11 can swallow a cancellation that races with a
    completed read; a watch task stopped at that moment must stop all the same.
    """
    watch = await BucketWatch.open(bucket)

    async def follow() -> None:
        while True:
            await watch.read(0.05)

    async def write() -> None:
        for i in range(10_000):
            await bucket.put(f"k{i % 50}", b"v")

    writer = asyncio.create_task(write())
    try:
        for attempt in range(60):
            reader = asyncio.create_task(follow())
            await asyncio.sleep(0.001 * (attempt % 7))
            reader.cancel()
            done, _ = await asyncio.wait({reader}, timeout=2.0)
            assert done, f"the reader ignored its cancellation (attempt {attempt})"
    finally:
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await writer
        await watch.close()
