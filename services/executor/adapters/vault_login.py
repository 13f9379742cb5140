"""Build the Vault clients of a process's role: the trading role logs in only with the
read-only identity, the accounts role only with the identity that may write.
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
from services.executor.config import ExecutorRole, ExecutorSettings, VaultAuth


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


def _reader(settings: ExecutorSettings) -> Login:
    return make_login(
        settings,
        settings.vault_auth,
        role_id=settings.vault_role_id,
        secret_id=settings.vault_secret_id,
        token=settings.vault_token,
        kubernetes_role=settings.vault_kubernetes_role,
    )


def _writer(settings: ExecutorSettings) -> Login:
    if settings.vault_write_auth is None:
        return _reader(settings)
    return make_login(
        settings,
        settings.vault_write_auth,
        role_id=settings.vault_write_role_id,
        secret_id=settings.vault_write_secret_id,
        token=settings.vault_write_token,
        kubernetes_role=settings.vault_write_kubernetes_role,
    )


def vault_clients(settings: ExecutorSettings) -> tuple[VaultKeys, VaultKeys]:
    """Return (reader, writer) Vault clients of this process's role, for its namespace.

    The trading role has only the read identity (its "writer" is the reader: Vault refuses its
    writes); the accounts role only the write identity, which also reads to validate keys.
    """
    location = VaultLocation(settings.vault_mount, settings.vault_prefix, settings.namespace)
    verify: str | bool = settings.vault_ca_cert or True

    def client(login: Login) -> VaultKeys:
        return VaultKeys(
            settings.vault_url, location, login, timeout_s=settings.vault_timeout_s, verify=verify
        )

    if settings.role is ExecutorRole.ACCOUNTS:
        writer = client(_writer(settings))
        return writer, writer
    reader = client(_reader(settings))
    if settings.role is ExecutorRole.TRADING or settings.vault_write_auth is None:
        return reader, reader
    return reader, client(_writer(settings))
