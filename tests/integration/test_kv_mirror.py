"""The in-memory copy of a KV bucket follows the bucket within 2 seconds."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.kv import KeyValue

from libs.common.kv_mirror import KVMirror
from libs.common.records import TenantRecord, TenantStatus
from libs.common.topology import Topology
from tests import factories
from tests.helpers.polling import eventually


@pytest.fixture
async def bucket(js: JetStreamContext, topology: Topology) -> KeyValue:
    return await js.key_value(topology.tenants_bucket)


@pytest.fixture
async def mirror(nc: Client, bucket: KeyValue) -> AsyncIterator[KVMirror[TenantRecord]]:
    m = KVMirror(nc, bucket, TenantRecord.model_validate_json)
    yield m
    await m.stop()


async def test_existing_values_are_loaded_before_start_returns(
    bucket: KeyValue, mirror: KVMirror[TenantRecord]
) -> None:
    records = [factories.tenant_record() for _ in range(50)]
    for record in records:
        await bucket.put(record.tenant_id, record.model_dump_json().encode())
    await mirror.start()
    assert mirror.ready
    assert len(mirror) == 50
    assert all(mirror.get(r.tenant_id) == r for r in records)


async def test_an_early_end_of_initial_values_marker_does_not_make_it_ready_too_soon(
    bucket: KeyValue, mirror: KVMirror[TenantRecord], monkeypatch: pytest.MonkeyPatch
) -> None:
    """nats-py may queue its "no more initial values" marker before the values themselves
    (seen under load: the server answered the consumer's pending count before it flushed the
    values); the copy must still hold every value once ``start`` returns.
    """
    records = [factories.tenant_record() for _ in range(20)]
    for record in records:
        await bucket.put(record.tenant_id, record.model_dump_json().encode())
    watch = KeyValue.watch

    async def marker_first(self: KeyValue, keys: str, **kwargs: object) -> KeyValue.KeyWatcher:
        watcher = await watch(self, keys, **kwargs)
        watcher._updates._queue.appendleft(None)  # type: ignore[attr-defined]  # noqa: SLF001
        return watcher

    monkeypatch.setattr(KeyValue, "watch", marker_first)
    await mirror.start()
    assert len(mirror) == 20
    assert all(mirror.get(r.tenant_id) == r for r in records)


async def test_an_empty_bucket_is_ready_at_once(mirror: KVMirror[TenantRecord]) -> None:
    await mirror.start(timeout_s=2)
    assert mirror.ready
    assert len(mirror) == 0


async def test_an_update_reaches_the_copy_in_under_two_seconds(
    bucket: KeyValue, mirror: KVMirror[TenantRecord]
) -> None:
    await mirror.start()
    record = factories.tenant_record()
    await bucket.put(record.tenant_id, record.model_dump_json().encode())
    await eventually(
        lambda: mirror.get(record.tenant_id) == record, what="the new record", timeout_s=2.0
    )

    suspended = record.model_copy(update={"status": TenantStatus.SUSPENDED})
    await bucket.put(record.tenant_id, suspended.model_dump_json().encode())
    await eventually(
        lambda: mirror.get(record.tenant_id) == suspended,
        what="mirror.get(record.tenant_id) == suspended",
    )

    await bucket.delete(record.tenant_id)
    await eventually(
        lambda: mirror.get(record.tenant_id) is None, what="mirror.get(record.tenant_id) is None"
    )


async def test_a_purged_key_disappears(bucket: KeyValue, mirror: KVMirror[TenantRecord]) -> None:
    record = factories.tenant_record()
    await bucket.put(record.tenant_id, record.model_dump_json().encode())
    await mirror.start()
    assert record.tenant_id in mirror
    await bucket.purge(record.tenant_id)
    await eventually(lambda: record.tenant_id not in mirror, what="record.tenant_id not in mirror")


async def test_a_bad_value_is_left_out_and_does_not_stop_the_watch(
    bucket: KeyValue, mirror: KVMirror[TenantRecord]
) -> None:
    await mirror.start()
    await bucket.put("broken", b"{not json")
    good = factories.tenant_record()
    await bucket.put(good.tenant_id, good.model_dump_json().encode())
    await eventually(
        lambda: mirror.get(good.tenant_id) == good, what="mirror.get(good.tenant_id) == good"
    )
    assert mirror.get("broken") is None


async def test_the_copy_recovers_when_its_watch_is_lost(
    nc: Client, bucket: KeyValue, mirror: KVMirror[TenantRecord]
) -> None:
    await mirror.start()
    kept, gone = factories.tenant_record(), factories.tenant_record()
    for r in (kept, gone):
        await bucket.put(r.tenant_id, r.model_dump_json().encode())
    await eventually(lambda: len(mirror) == 2, what="len(mirror) == 2")
    await _kill_watch_consumers(nc, bucket)
    await bucket.delete(gone.tenant_id)
    late = factories.tenant_record()
    await bucket.put(late.tenant_id, late.model_dump_json().encode())
    await eventually(
        lambda: gone.tenant_id not in mirror and late.tenant_id in mirror,
        what="gone.tenant_id not in mirror and late.tenant_id in mirror",
        timeout_s=10.0,
    )
    assert mirror.get(kept.tenant_id) == kept


async def _kill_watch_consumers(nc: Client, bucket: KeyValue) -> None:
    jsm = nc.jsm()
    stream = f"KV_{bucket._name}"  # noqa: SLF001
    for info in await jsm.consumers_info(stream):
        await jsm.delete_consumer(stream, info.name)
