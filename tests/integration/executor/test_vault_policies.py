"""The shipped Vault policies on a real OpenBao: the API's identity may destroy an account's keys
(every version and the metadata, as a tenant purge does); the trading identity may not.
"""

from __future__ import annotations

from pathlib import Path

import hvac
import pytest

from libs.common.ids import new_id
from services.executor.adapters.vault import VaultLocation
from tests.helpers.vault import VaultServer

POLICIES = Path(__file__).parents[3] / "deploy" / "vault"


def logged_in_with(vault: VaultServer, policy_file: str, namespace: str) -> hvac.Client:
    """Return a client holding a token of the shipped policy, for deployment ``namespace``."""
    root = hvac.Client(url=vault.url, token=vault.root_token)
    text = (POLICIES / policy_file).read_text().replace("sparky/sparky/", f"sparky/{namespace}/")
    name = f"{policy_file.removesuffix('.hcl')}-{namespace}"
    root.sys.create_or_update_policy(name=name, policy=text)
    token = root.auth.token.create(policies=[name], ttl="5m")["auth"]["client_token"]
    return hvac.Client(url=vault.url, token=token)


def test_only_the_api_identity_may_destroy_an_accounts_keys(
    vault: VaultServer, namespace: str
) -> None:
    path = VaultLocation("secret", "sparky", namespace).path(new_id(), "main")
    api = logged_in_with(vault, "sparky-executor-api.hcl", namespace)
    trading = logged_in_with(vault, "sparky-executor.hcl", namespace)
    api.secrets.kv.v2.create_or_update_secret(path=path, secret={"api_key": "k", "secret": "s"})
    api.secrets.kv.v2.create_or_update_secret(path=path, secret={"api_key": "k2", "secret": "s2"})

    with pytest.raises(hvac.exceptions.Forbidden):
        trading.secrets.kv.v2.delete_metadata_and_all_versions(path=path)
    assert trading.secrets.kv.v2.read_secret_version(path=path, raise_on_deleted_version=True)

    api.secrets.kv.v2.delete_metadata_and_all_versions(path=path)
    root = hvac.Client(url=vault.url, token=vault.root_token).secrets.kv.v2
    for version in (1, 2):
        with pytest.raises(hvac.exceptions.InvalidPath):
            root.read_secret_version(path=path, version=version, raise_on_deleted_version=False)
    with pytest.raises(hvac.exceptions.InvalidPath):
        root.read_secret_metadata(path=path)
