"""The Vault API the executor will use: KV v2 secrets read through a read-only AppRole."""

from __future__ import annotations

import hvac
import pytest
from hvac.exceptions import Forbidden

from tests.helpers.vault import VaultServer

READ_ONLY = 'path "secret/data/tenants/*" { capabilities = ["read"] }'


def test_an_approle_with_a_read_policy_reads_but_cannot_write(vault: VaultServer) -> None:
    root = hvac.Client(url=vault.url, token=vault.root_token)
    path = "tenants/t1/accounts/main"
    root.secrets.kv.v2.create_or_update_secret(path=path, secret={"api_key": "k", "secret": "s"})
    root.sys.create_or_update_policy(name="executor-read", policy=READ_ONLY)
    if "approle/" not in root.sys.list_auth_methods():
        root.sys.enable_auth_method("approle")
    root.auth.approle.create_or_update_approle("executor", token_policies=["executor-read"])
    role_id = root.auth.approle.read_role_id("executor")["data"]["role_id"]
    secret_id = root.auth.approle.generate_secret_id("executor")["data"]["secret_id"]

    executor = hvac.Client(url=vault.url)
    executor.auth.approle.login(role_id=role_id, secret_id=secret_id)
    read = executor.secrets.kv.v2.read_secret_version(path=path, raise_on_deleted_version=True)
    assert read["data"]["data"] == {"api_key": "k", "secret": "s"}
    with pytest.raises(Forbidden):
        executor.secrets.kv.v2.create_or_update_secret(path=path, secret={"api_key": "x"})
