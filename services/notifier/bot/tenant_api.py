"""Sparky's own APIs, called as the tenant with the key the notifier keeps for it.

The bot answers `/status`, `/positions`, `/pnl` and `/alerts` from these reads, and turns the
tenant's kill switch with the router's optimistic concurrency (``If-Match`` on the tenant
layer's version). Every failure becomes `ApiUnavailable` with a sentence the trader can read;
the key never appears in one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

Json = dict[str, Any]
_TRIES = 3  # a kill-switch change that keeps meeting a newer version gives up after this


class ApiUnavailable(Exception):  # noqa: N818 - it is what the trader is told
    """A Sparky API did not answer as expected; the message says which, in words."""


@dataclass(frozen=True)
class Urls:
    """Where the APIs are (internal URLs); an empty one is not asked."""

    billing: str
    router: str
    ledger: str
    accounts: str = ""


class TenantApis:
    """HTTP reads and the kill switch, each with the tenant's key."""

    def __init__(self, urls: Urls, client: httpx.AsyncClient) -> None:
        self._urls = urls
        self._client = client

    async def _get(self, base: str, path: str, key: str, what: str, **params: Any) -> Any:
        try:
            response = await self._client.get(base + path, headers=_auth(key), params=params)
        except httpx.HTTPError as error:
            raise ApiUnavailable(f"Sparky could not read {what} just now.") from error
        if response.status_code != 200:
            raise ApiUnavailable(f"Sparky could not read {what} ({response.status_code}).")
        return response.json()

    async def account(self, key: str) -> Json:
        """Billing's view of the tenant: plan, standing."""
        found: Json = await self._get(self._urls.billing, "/api/v1/account", key, "your plan")
        return found

    async def exchange_accounts(self, key: str) -> list[Json]:
        """The tenant's exchange accounts (empty when the accounts API is not configured)."""
        if not self._urls.accounts:
            return []
        found = await self._get(
            self._urls.accounts, "/api/v1/exchange-accounts", key, "your exchange accounts"
        )
        return list(found["accounts"])

    async def positions(self, key: str) -> list[Json]:
        found = await self._get(self._urls.ledger, "/api/v1/positions", key, "your positions")
        return [p for p in found["positions"] if p["side"] != "flat"]

    async def pnl(self, key: str) -> list[Json]:
        found = await self._get(self._urls.ledger, "/api/v1/pnl", key, "your PnL")
        return list(found["totals"])

    async def alerts(self, key: str, limit: int = 10) -> list[Json]:
        found = await self._get(
            self._urls.ledger, "/api/v1/alerts", key, "your alerts", limit=limit
        )
        return list(found["alerts"])

    async def trading_enabled(self, key: str) -> bool:
        """Whether the tenant-wide kill switch lets trading through."""
        layer = await self._tenant_layer(key)
        return layer is None or layer["settings"].get("enabled") is not False

    async def set_trading(self, key: str, *, enabled: bool) -> None:
        """Turn the tenant-wide kill switch, keeping every other tenant-wide setting."""
        for _ in range(_TRIES):
            layer = await self._tenant_layer(key)
            settings = {k: v for k, v in (layer or {}).get("settings", {}).items() if v is not None}
            headers = _auth(key)
            if layer is not None:
                headers["If-Match"] = f'"{layer["version"]}"'
            try:
                response = await self._client.put(
                    self._urls.router + "/api/v1/settings/tenant",
                    headers=headers,
                    json=settings | {"enabled": enabled},
                )
            except httpx.HTTPError as error:
                raise ApiUnavailable("Sparky could not change the kill switch just now.") from error
            if response.status_code == 200:
                return
            if response.status_code != 412:  # 412: changed meanwhile, read it again
                raise ApiUnavailable(
                    f"Sparky could not change the kill switch ({response.status_code})."
                )
        raise ApiUnavailable("Your settings kept changing; try again.")

    async def _tenant_layer(self, key: str) -> Json | None:
        url = self._urls.router + "/api/v1/settings/tenant"
        try:
            response = await self._client.get(url, headers=_auth(key))
        except httpx.HTTPError as error:
            raise ApiUnavailable("Sparky could not read your trade settings just now.") from error
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise ApiUnavailable(
                f"Sparky could not read your trade settings ({response.status_code})."
            )
        found: Json = response.json()
        return found


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
