"""An operator deletes a trader: every service a process, the trader made through the APIs.

Within seconds the executor holds nothing of the trader's exchange accounts: no row, no entry in
the ``accounts`` bucket, no version or metadata of its keys in Vault. Another trader's account
is untouched and keeps trading.
"""

from __future__ import annotations

import asyncpg
import hvac
import nats
import pytest
from nats.js.errors import KeyNotFoundError

from libs.common.records import account_key
from libs.common.topology import Topology
from scripts.devstack import Stack, StackConfig
from tests.helpers import pipeline
from tests.helpers.e2e_alerts import accepted, api_client, settled_trail, timenow
from tests.helpers.polling import eventually
from tests.helpers.vault import VaultServer

pytestmark = pytest.mark.asyncio(loop_scope="module")

WAIT_S = 30.0


class Leftovers:
    """What the stack still holds of a tenant's exchange accounts, looked at from outside."""

    def __init__(self, cfg: StackConfig, vault: VaultServer) -> None:
        self._cfg = cfg
        self._vault = hvac.Client(url=vault.url, token=vault.root_token).secrets.kv.v2

    async def rows(self, tenant_id: str) -> set[str]:
        conn = await asyncpg.connect(self._cfg.infra.database_url)
        try:
            schema = self._cfg.schema("executor")
            query = f'SELECT label FROM "{schema}".accounts WHERE tenant_id = $1'
            return {row["label"] for row in await conn.fetch(query, tenant_id)}
        finally:
            await conn.close()

    async def bucket(self, tenant_id: str, labels: set[str]) -> set[str]:
        nc = await nats.connect(self._cfg.infra.admin_nats_url)
        try:
            kv = await nc.jetstream().key_value(Topology(self._cfg.namespace).accounts_bucket)
            found = set()
            for label in labels:
                try:
                    await kv.get(account_key(tenant_id, label))
                except KeyNotFoundError:
                    continue
                found.add(label)
            return found
        finally:
            await nc.close()

    def vault(self, tenant_id: str, labels: set[str]) -> set[str]:
        found = set()
        for label in labels:
            path = (
                f"sparky/{self._cfg.namespace}/tenants/{tenant_id}/accounts/{label.encode().hex()}"
            )
            try:
                self._vault.read_secret_metadata(path=path)
            except hvac.exceptions.InvalidPath:
                continue
            found.add(label)
        return found

    async def of(self, tenant_id: str, labels: set[str]) -> tuple[set[str], ...]:
        return (
            await self.rows(tenant_id),
            await self.bucket(tenant_id, labels),
            self.vault(tenant_id, labels),
        )


async def test_a_deleted_trader_leaves_no_exchange_account_or_key_behind(
    stack: Stack, vault: VaultServer
) -> None:
    cfg = stack.cfg
    leftovers = Leftovers(cfg, vault)
    both = {"main", "spare"}
    async with api_client() as client:
        ann = await pipeline.provision(client, cfg, "ann")
        ben = await pipeline.provision(client, cfg, "ben")
        spare = {"label": "spare", "exchange_id": "binance", "mode": "paper"}
        spare |= {"api_key": ann.paper_api_key, "secret": ann.paper_secret}
        added = await client.post(
            f"{cfg.url('accounts')}/api/v1/exchange-accounts", json=spare, headers=ann.auth
        )
        assert added.status_code == 201, added.text
        assert await leftovers.of(ann.tenant_id, both) == (both, both, both)
        bens = await leftovers.of(ben.tenant_id, {"main"})
        assert bens == ({"main"}, {"main"}, {"main"})

        operator = {"Authorization": f"Bearer {cfg.operator_token}"}
        deleted = await client.delete(
            f"{cfg.url('billing')}/api/v1/tenants/{ann.tenant_id}", headers=operator
        )
        assert deleted.status_code == 204, deleted.text

        async def purged() -> bool:
            return await leftovers.of(ann.tenant_id, both) == (set(), set(), set())

        await eventually(purged, what="ann's accounts purged", timeout_s=WAIT_S)
        assert await leftovers.of(ben.tenant_id, {"main"}) == bens
        intent_id = await accepted(client, ben, f"buy BINANCE:BTCUSDT 0.001 time={timenow()}")
        trail = await settled_trail(client, cfg, ben, intent_id, WAIT_S)
        assert [o["status"] for o in trail["orders"]] == ["filled"], trail
