"""Each replica's cache of trade settings, invalidated through a KV bucket within 2 seconds.

After a change commits, the API puts the tenant's new settings version (the id of the change)
into the router's own bucket ``<ns>_router-settings``. Every replica watches that bucket with
a `KVMirror`; a cached entry is used only while the version it was loaded at is still the one
in the bucket, so the next intent after a change reloads. A KV watch resumes after a reconnect
(unlike a core NATS notice, which would be lost); a TTL backstops a failed put.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from nats.js.kv import KeyValue

from libs.common.auth import Lookup
from services.router.domain.layers import TenantSettings
from services.router.metrics import SETTINGS_LOADS
from services.router.store.settings import SettingsStore

log = logging.getLogger(__name__)

NOTIFY_ATTEMPTS = 5


def decode_version(value: bytes) -> str:
    """Decode a version from the bucket (the id of the tenant's latest change)."""
    return value.decode()


@dataclass(frozen=True, slots=True)
class _Entry:
    version: str | None
    settings: TenantSettings
    loaded_at: float


class SettingsCache:
    """Tenant → settings, reloaded when the bucket's version moves or the TTL expires."""

    def __init__(
        self,
        store: SettingsStore,
        versions: Lookup[str],
        *,
        ttl_s: float = 60.0,
        max_entries: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._versions = versions
        self._ttl_s = ttl_s
        self._max = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()

    async def get(self, tenant_id: str) -> TenantSettings:
        """Return the tenant's settings, from the cache while it is current."""
        version = self._versions.get(tenant_id)  # read before loading: a later change reloads
        entry = self._entries.get(tenant_id)
        if entry is not None and entry.version == version and self._fresh(entry):
            self._entries.move_to_end(tenant_id)
            return entry.settings
        settings = await self._store.load(tenant_id)
        SETTINGS_LOADS.inc()
        self._entries[tenant_id] = _Entry(version, settings, self._clock())
        self._entries.move_to_end(tenant_id)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)
        return settings

    def _fresh(self, entry: _Entry) -> bool:
        return self._clock() - entry.loaded_at < self._ttl_s

    def __len__(self) -> int:
        return len(self._entries)


class SettingsNotifier:
    """Tell every replica that a tenant's settings changed."""

    def __init__(self, bucket: KeyValue) -> None:
        self._bucket = bucket

    async def changed(self, tenant_id: str, version: int) -> bool:
        """Put the tenant's new version; return False if NATS could not take it (the TTL
        then bounds how long replicas keep the old settings).
        """
        for attempt in range(NOTIFY_ATTEMPTS):
            try:
                await self._bucket.put(tenant_id, str(version).encode())
            except Exception:  # noqa: BLE001 - any failure: retry, then rely on the TTL
                await asyncio.sleep(0.1 * 2**attempt)
            else:
                return True
        log.error("could not announce a settings change", extra={"tenant_id": tenant_id})
        return False
