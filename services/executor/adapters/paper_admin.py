"""The paper exchange's admin API (``/admin/accounts``), to open paper accounts for tenants.

Its bearer token is a secret of the accounts role; the keys the exchange returns are handed
straight to the caller (who stores them in Vault) and never logged. Any trouble reaching the
exchange, or an answer other than the documented one, is `PaperExchangeUnavailableError`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

import aiohttp

from libs.common.errors import UnavailableError
from services.executor.adapters.credentials import Credentials


class PaperExchangeUnavailableError(UnavailableError):
    """The paper exchange could not open (or close) an account now."""


@dataclass(frozen=True, slots=True)
class PaperAccount:
    """An account the paper exchange opened: its id there and its keys."""

    account_id: int
    credentials: Credentials


class PaperAdmin:
    """Open and close accounts on the paper exchange at ``base_url``."""

    def __init__(self, base_url: str, token: str, timeout_s: float) -> None:
        self._root = base_url.rstrip("/") + "/admin/accounts"
        self._headers = {"Authorization": f"Bearer {token}"}
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)

    async def open(
        self, label: str, balances: Mapping[str, Decimal], futures_wallet: Decimal | None
    ) -> PaperAccount:
        """Open an account with ``balances`` (spot) and ``futures_wallet`` (USDT)."""
        body: dict[str, object] = {
            "label": label,
            "balances": {asset: str(amount) for asset, amount in balances.items()},
        }
        if futures_wallet is not None:
            body["futures_wallet"] = str(futures_wallet)
        try:
            async with (
                aiohttp.ClientSession(timeout=self._timeout) as http,
                http.post(self._root, json=body, headers=self._headers) as answer,
            ):
                if answer.status != 201:
                    raise PaperExchangeUnavailableError(_refused(answer.status))
                created = await answer.json()
            credentials = Credentials(api_key=created["api_key"], secret=created["secret"])
            return PaperAccount(int(created["account_id"]), credentials)
        except (aiohttp.ClientError, TimeoutError, ValueError, KeyError, TypeError) as exc:
            raise PaperExchangeUnavailableError(
                f"the paper exchange could not be reached ({type(exc).__name__})"
            ) from None

    async def close(self, account_id: int) -> None:
        """Delete an account opened for nothing; trouble doing so is left to the operator."""
        with contextlib.suppress(aiohttp.ClientError, TimeoutError):
            async with (
                aiohttp.ClientSession(timeout=self._timeout) as http,
                http.delete(f"{self._root}/{account_id}", headers=self._headers),
            ):
                pass


def _refused(status: int) -> str:
    if status == 401:
        return "the paper exchange refused the accounts service's admin token"
    return f"the paper exchange answered {status}"
