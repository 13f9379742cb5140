"""Tenants' exchange API keys in Vault KV v2, one secret per account.

Path: ``<mount>/data/<prefix>/<namespace>/tenants/<tenant>/accounts/<hex(label)>``. The
secret repeats its tenant and label, and a read checks them: keys are only ever handed to the
account they were written for. hvac is synchronous, so calls run in a worker thread; a
refused token (expired) triggers one fresh login before the call is given up.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import hvac
import requests
from hvac.exceptions import Forbidden, InvalidPath, Unauthorized, VaultError

from services.executor.adapters.credentials import Credentials
from services.executor.errors import CredentialsUnavailableError, OrderFailedError
from services.executor.metrics import VAULT_ERRORS

Login = Callable[[hvac.Client], None]
T = TypeVar("T")


def approle_login(role_id: str, secret_id: str) -> Login:
    """Log in with an AppRole (local runs, CI)."""
    return lambda client: client.auth.approle.login(role_id=role_id, secret_id=secret_id)


def kubernetes_login(role: str, jwt_path: str, mount: str = "kubernetes") -> Login:
    """Log in with the pod's service-account token (in a cluster)."""

    def login(client: hvac.Client) -> None:
        jwt = Path(jwt_path).read_text(encoding="utf-8").strip()
        client.auth.kubernetes.login(role=role, jwt=jwt, mount_point=mount)

    return login


def token_login(token: str) -> Login:
    """Use a fixed token (development only)."""

    def login(client: hvac.Client) -> None:
        client.token = token

    return login


@dataclass(frozen=True, slots=True)
class VaultLocation:
    """Where a deployment's account secrets live."""

    mount: str
    prefix: str
    namespace: str

    def path(self, tenant_id: str, label: str) -> str:
        """Return the KV v2 path (without mount and ``data/``) of one account's keys."""
        parts = [self.prefix.strip("/"), self.namespace, "tenants", tenant_id, "accounts"]
        return "/".join([p for p in parts if p] + [label.encode("utf-8").hex()])


class MissingCredentialsError(OrderFailedError):
    """Vault holds no keys for the account."""

    def __init__(self, label: str) -> None:
        super().__init__(
            "credentials_missing",
            f"No API keys are stored for account '{label}'; add them again in the API.",
        )


class VaultKeys:
    """Read, write and delete account keys in Vault."""

    def __init__(
        self,
        url: str,
        location: VaultLocation,
        login: Login,
        *,
        timeout_s: float = 3.0,
        verify: str | bool = True,
    ) -> None:
        """``verify``: a CA bundle's path for Vault's certificate, or True (trusted CAs)."""
        self._client = hvac.Client(url=url, timeout=timeout_s, verify=verify)
        self._location = location
        self._login = login
        self._lock = threading.Lock()
        self._logged_in = False

    async def read(self, tenant_id: str, label: str) -> Credentials:
        """Return the keys of one account; raise `CredentialsUnavailableError` or
        `MissingCredentialsError`.
        """
        data = await self._call(self._read_sync, tenant_id, label)
        if data.get("tenant_id") != tenant_id or data.get("label") != label:
            raise MissingCredentialsError(label)  # never hand keys to another account
        return Credentials(
            api_key=str(data["api_key"]),
            secret=str(data["secret"]),
            passphrase=str(data["passphrase"]) if data.get("passphrase") else None,
        )

    async def write(self, tenant_id: str, label: str, credentials: Credentials) -> None:
        """Store (or replace) the keys of one account."""
        secret = {
            "tenant_id": tenant_id,
            "label": label,
            "api_key": credentials.api_key,
            "secret": credentials.secret,
        }
        if credentials.passphrase:
            secret["passphrase"] = credentials.passphrase
        await self._call(self._write_sync, tenant_id, label, secret)

    async def delete(self, tenant_id: str, label: str) -> None:
        """Delete every version of one account's keys (nothing to do if there are none)."""
        await self._call(self._delete_sync, tenant_id, label)

    async def check(self) -> None:
        """Raise unless Vault answers and is unsealed (readiness)."""
        await asyncio.to_thread(self._client.sys.read_health_status, method="GET")

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        try:
            return await asyncio.to_thread(self._with_login, fn, *args)
        except InvalidPath:
            raise MissingCredentialsError(str(args[1])) from None
        except (VaultError, requests.RequestException, OSError) as exc:
            VAULT_ERRORS.inc()
            raise CredentialsUnavailableError(
                f"credentials unavailable: Vault could not be used ({type(exc).__name__})"
            ) from exc

    def _with_login(self, fn: Callable[..., T], *args: Any) -> T:
        if not self._logged_in:
            self._relogin()
        try:
            return fn(*args)
        except (Forbidden, Unauthorized):
            self._relogin()  # the token may have expired: once more with a fresh one
            return fn(*args)

    def _relogin(self) -> None:
        with self._lock:
            self._login(self._client)
            self._logged_in = True

    def _read_sync(self, tenant_id: str, label: str) -> dict[str, Any]:
        response = self._client.secrets.kv.v2.read_secret_version(
            path=self._location.path(tenant_id, label),
            mount_point=self._location.mount,
            raise_on_deleted_version=True,
        )
        data: dict[str, Any] = response["data"]["data"]
        return data

    def _write_sync(self, tenant_id: str, label: str, secret: dict[str, str]) -> None:
        self._client.secrets.kv.v2.create_or_update_secret(
            path=self._location.path(tenant_id, label),
            secret=secret,
            mount_point=self._location.mount,
        )

    def _delete_sync(self, tenant_id: str, label: str) -> None:
        try:
            self._client.secrets.kv.v2.delete_metadata_and_all_versions(
                path=self._location.path(tenant_id, label), mount_point=self._location.mount
            )
        except InvalidPath:
            return
