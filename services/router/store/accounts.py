"""The tenants' exchange accounts, from an in-memory copy of the ``accounts`` bucket.

The bucket is keyed ``<tenant>.<hex(label)>``; decisions need "all accounts of one tenant", so
an index by tenant is rebuilt, at the next lookup, whenever the copy changed (accounts change
rarely; intents arrive often).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from libs.common.kv_mirror import KVMirror
from libs.common.records import AccountRecord

_NONE: Mapping[str, AccountRecord] = MappingProxyType({})


class AccountDirectory:
    """Look up a tenant's accounts by label."""

    def __init__(self, mirror: KVMirror[AccountRecord]) -> None:
        self._mirror = mirror
        self._built_at = -1.0
        self._by_tenant: dict[str, dict[str, AccountRecord]] = {}

    def of(self, tenant_id: str) -> Mapping[str, AccountRecord]:
        """Return the tenant's accounts, label → record."""
        if self._mirror.last_update_monotonic != self._built_at:
            self._rebuild()
        return self._by_tenant.get(tenant_id, _NONE)

    def _rebuild(self) -> None:
        built_at = self._mirror.last_update_monotonic
        index: dict[str, dict[str, AccountRecord]] = {}
        for key, record in self._mirror.items():
            # The key, not the record, says whose account it is: a record copied under
            # another tenant's key must not leak into either tenant.
            if key.split(".", 1)[0] == record.tenant_id:
                index.setdefault(record.tenant_id, {})[record.label] = record
        self._by_tenant, self._built_at = index, built_at
