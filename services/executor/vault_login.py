"""Build the Vault clients the settings describe: a read-only identity for trading, and the
API's identity that may write (the same one unless configured apart).
"""

from __future__ import annotations

import hvac
from hvac.exceptions import Unauthorized
from pydantic import SecretStr

from services.executor.adapters.vault import (
    Login,
    VaultKeys,
    VaultLocation,
    approle_login,
    kubernetes_login,
    token_login,
)
from services.executor.config import ExecutorSettings, VaultAuth


def _unconfigured(what: str) -> Login:
    def login(client: hvac.Client) -> None:
        raise Unauthorized(f"Vault {what} is not configured")

    return login


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


def make_login(
    settings: ExecutorSettings,
    auth: VaultAuth,
    *,
    role_id: str | None,
    secret_id: SecretStr | None,
    token: SecretStr | None,
    kubernetes_role: str,
) -> Login:
    """Return the login of one identity."""
    if auth is VaultAuth.KUBERNETES:
        return kubernetes_login(
            kubernetes_role, settings.vault_kubernetes_jwt_path, settings.vault_kubernetes_mount
        )
    if auth is VaultAuth.APPROLE:
        secret = _secret(secret_id)
        if role_id and secret:
            return approle_login(role_id, secret)
        return _unconfigured("AppRole (role_id and secret_id)")
    found = _secret(token)
    return token_login(found) if found else _unconfigured("token")


def vault_clients(settings: ExecutorSettings) -> tuple[VaultKeys, VaultKeys]:
    """Return (reader, writer) Vault clients for this deployment's namespace."""
    location = VaultLocation(settings.vault_mount, settings.vault_prefix, settings.namespace)
    read = make_login(
        settings,
        settings.vault_auth,
        role_id=settings.vault_role_id,
        secret_id=settings.vault_secret_id,
        token=settings.vault_token,
        kubernetes_role=settings.vault_kubernetes_role,
    )
    verify: str | bool = settings.vault_ca_cert or True
    reader = VaultKeys(
        settings.vault_url, location, read, timeout_s=settings.vault_timeout_s, verify=verify
    )
    if settings.vault_write_auth is None:
        return reader, reader
    write = make_login(
        settings,
        settings.vault_write_auth,
        role_id=settings.vault_write_role_id,
        secret_id=settings.vault_write_secret_id,
        token=settings.vault_write_token,
        kubernetes_role=settings.vault_write_kubernetes_role,
    )
    writer = VaultKeys(
        settings.vault_url, location, write, timeout_s=settings.vault_timeout_s, verify=verify
    )
    return reader, writer
