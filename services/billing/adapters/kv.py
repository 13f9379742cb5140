"""The three config-plane buckets, as billing writes them.

Writes are plain puts and deletes; reconciliation writes only if the key is still at the
revision it read, so it never overwrites a change made while it was comparing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import nats.errors
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.errors import APIError, KeyWrongLastSequenceError
from nats.js.kv import KV_DEL, KV_PURGE, KeyValue
from pydantic import BaseModel

from libs.common.jetstream import ensure_bucket
from libs.common.kv_watch import BucketWatch
from libs.common.topology import Topology
from services.billing.errors import PublishError

WRONG_LAST_SEQUENCE = (10071, 10164)  # JetStream's "not at the expected revision"
SNAPSHOT_TIMEOUT_S = 120.0  # reading a bucket of 100,000 keys takes seconds, not minutes


class Bucket(StrEnum):
    """Billing's buckets, by their name without the namespace."""

    TENANTS = "tenants"
    WEBHOOK_TOKENS = "webhook-tokens"
    API_KEYS = "api-keys"


@dataclass(frozen=True, slots=True)
class KvChange:
    """One write: a value to put, or None to delete the key."""

    bucket: Bucket
    key: str
    value: bytes | None

    @classmethod
    def put(cls, bucket: Bucket, key: str, record: BaseModel) -> KvChange:
        # Fields at their default are left out: a reader of the release before, whose records
        # forbid unknown fields, still reads a record unless it uses a field new to it.
        return cls(bucket, key, record.model_dump_json(exclude_defaults=True).encode())

    @classmethod
    def delete(cls, bucket: Bucket, key: str) -> KvChange:
        return cls(bucket, key, None)


@dataclass(frozen=True, slots=True)
class KvEntry:
    """A key's latest revision and value (None when the latest operation deleted it)."""

    revision: int
    value: bytes | None


class KvStore:
    """Billing's handle on its buckets; every failure becomes `PublishError`."""

    def __init__(self, topology: Topology, *, timeout_s: float = 2.0) -> None:
        self._topology = topology
        self._timeout_s = timeout_s
        self._kv: dict[Bucket, KeyValue] = {}
        self._js: JetStreamContext | None = None

    async def open(self, nc: Client) -> None:
        """Bind to the buckets, creating any that is missing (a wiped NATS)."""
        self._js = nc.jetstream(timeout=self._timeout_s)
        await self.ensure_buckets()

    async def ensure_buckets(self) -> None:
        """Create missing buckets again; reconciliation calls it before it compares."""
        if self._js is None:
            raise RuntimeError("KvStore.open() was not called")
        names = {
            Bucket.TENANTS: self._topology.tenants_bucket,
            Bucket.WEBHOOK_TOKENS: self._topology.webhook_tokens_bucket,
            Bucket.API_KEYS: self._topology.api_keys_bucket,
        }
        try:
            for bucket, name in names.items():
                self._kv[bucket] = await ensure_bucket(self._js, name, self._topology.replicas)
        except (nats.errors.Error, TimeoutError, OSError) as exc:
            raise PublishError(f"cannot reach the KV buckets: {type(exc).__name__}") from exc

    async def apply(self, changes: Sequence[KvChange]) -> None:
        """Write ``changes`` in order; raise `PublishError` at the first that fails."""
        try:
            async with asyncio.timeout(self._timeout_s * max(1, len(changes))):
                for change in changes:
                    await self._write(change)
        except (nats.errors.Error, TimeoutError, OSError) as exc:
            raise PublishError(f"cannot write to the KV buckets: {type(exc).__name__}") from exc

    async def _write(self, change: KvChange) -> None:
        kv = self._kv[change.bucket]
        if change.value is None:
            await kv.delete(change.key)
        else:
            await kv.put(change.key, change.value)

    async def snapshot(self, bucket: Bucket) -> dict[str, KvEntry]:
        """Return every key's latest revision, deleted keys included."""
        try:
            return await asyncio.wait_for(self._read_all(self._kv[bucket]), SNAPSHOT_TIMEOUT_S)
        except (nats.errors.Error, TimeoutError, OSError) as exc:
            raise PublishError(f"cannot read the {bucket} bucket: {type(exc).__name__}") from exc

    @staticmethod
    async def _read_all(kv: KeyValue) -> dict[str, KvEntry]:
        watch = await BucketWatch.open(kv)
        entries: dict[str, KvEntry] = {}
        try:
            while not watch.initial_done:
                entry = await watch.read(5.0)
                if entry is None:
                    if watch.initial_done:
                        break
                    raise TimeoutError
                deleted = entry.operation in (KV_DEL, KV_PURGE)
                entries[entry.key] = KvEntry(entry.revision or 0, None if deleted else entry.value)
        finally:
            await watch.close()
        return entries

    async def write_if(self, change: KvChange, revision: int) -> bool:
        """Write ``change`` only if the key is still at ``revision`` (0: never written);
        return False when someone else wrote it since.
        """
        kv = self._kv[change.bucket]
        try:
            if change.value is None:
                await kv.delete(change.key, last=revision)
            else:
                await kv.update(change.key, change.value, last=revision)
        except KeyWrongLastSequenceError:
            return False
        except APIError as exc:
            if exc.err_code in WRONG_LAST_SEQUENCE:
                return False
            raise PublishError(f"cannot write to the {change.bucket} bucket") from exc
        except (nats.errors.Error, TimeoutError, OSError) as exc:
            raise PublishError(f"cannot write to the {change.bucket} bucket") from exc
        return True
