"""The paper exchange as a subprocess, for tests and benchmarks; and ccxt's recipe to drive it.

    with paper_exchange(tmp_path) as paper:
        account = await paper.create_account({"USDT": "10000"})
        exchange = ccxt.async_support.binance(ccxt_config(paper.base_url, account.api_key,
                                                          account.secret))

The process listens on a free loopback port and keeps its state in ``<dir>/paper.sqlite3``;
`PaperExchangeProcess.kill` (SIGKILL) then `start` brings it back on the same port and file.
Prices default to the fixed feed (every market at its reference price, BTCUSDT 60000).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import ccxt.async_support as ccxt_async
import httpx

from scripts.devstack import ServiceProcess, service_env
from tests.helpers.stack import service_config

STARTUP_TIMEOUT_S = 30.0
# Prices hold still unless a test moves them, and resting orders match quickly.
TEST_SETTINGS: Mapping[str, object] = {"price_feed": "fixed", "match_interval_s": 0.2}


def ccxt_config(base_url: str, api_key: str, secret: str) -> dict[str, Any]:
    """Return the config that makes ccxt's unmodified ``binance`` class trade on the paper exchange.

    ``base_url`` is the exchange's root (``http://127.0.0.1:8106``); ``/api/v3`` is added unless
    it is there already. Only the spot code path is used: ``fetchCurrencies`` off (it would call
    ``sapi``), margin pairs off, and markets loaded from ``/api/v3/exchangeInfo`` only.
    """
    root = base_url.rstrip("/").removesuffix("/api/v3")
    api = f"{root}/api/v3"
    return {
        "apiKey": api_key,
        "secret": secret,
        "enableRateLimit": True,
        "options": {
            "fetchCurrencies": False,
            "fetchMargins": False,
            "fetchMarkets": {"types": ["spot"]},
        },
        "urls": {"api": {"public": api, "private": api}},
    }


FUTURES_API_KEYS = (
    "fapiPublic",
    "fapiPublicV2",
    "fapiPublicV3",
    "fapiPrivate",
    "fapiPrivateV2",
    "fapiPrivateV3",
)


def futures_ccxt_config(root: str, api_key: str, secret: str) -> dict[str, Any]:
    """Return the config that makes ccxt's unmodified ``binanceusdm`` class trade USDⓈ-M
    perpetuals on the paper exchange.

    ``root`` is the exchange's root URL. Only the fapi URLs are pointed at it (``/fapi/v1``,
    ``/fapi/v2``, ``/fapi/v3``); the options keep ``load_markets`` on ``/fapi/v1/exchangeInfo``
    (no sapi currencies, no margin pairs, linear markets only). ``exceptions`` adds Binance's
    USDⓈ-M error map, which ccxt otherwise picks by the ``fapi.binance.com`` host name: with it,
    -2019 raises InsufficientFunds, -2021 OrderImmediatelyFillable, -2022 InvalidOrder, as
    against Binance.
    """
    base = root.rstrip("/")
    urls = {
        key: f"{base}/fapi/v{key[-1] if key[-1].isdigit() else '1'}" for key in FUTURES_API_KEYS
    }
    return {
        "apiKey": api_key,
        "secret": secret,
        "enableRateLimit": True,
        "options": {
            "defaultType": "swap",
            "fetchCurrencies": False,
            "fetchMargins": False,
            "fetchMarkets": {"types": ["linear"]},
        },
        "urls": {"api": urls},
        "exceptions": {"exact": dict(LINEAR_EXCEPTIONS)},
    }


LINEAR_EXCEPTIONS: dict[str, type[Exception]] = ccxt_async.binanceusdm().exceptions["linear"][
    "exact"
]


@dataclass(frozen=True)
class PaperAccount:
    """A paper account's id and credentials, as the admin API returned them."""

    account_id: int
    api_key: str
    secret: str


class PaperExchangeProcess(ServiceProcess):
    """One paper exchange process (`scripts.devstack.ServiceProcess`) and its admin API.

    ``settings`` are the exchange's own (``{"weight_limit": 60}``), over the tests' fixed
    prices and quick matching; its state is in ``state_dir``, kept across restarts.
    """

    def __init__(self, state_dir: Path, settings: Mapping[str, object] | None = None) -> None:
        self.admin_token = "sop_" + secrets.token_urlsafe(24)
        own = {"admin_token": self.admin_token} | dict(TEST_SETTINGS) | dict(settings or {})
        super().__init__("paper", service_config("paper", state_dir, own))
        self.state_path = Path(service_env("paper", self.cfg)["SPARKY_PAPER_STATE_PATH"])

    @property
    def base_url(self) -> str:
        """The exchange's root URL (ccxt's API URL is this plus ``/api/v3``)."""
        return self.url

    def start(self) -> None:
        """Start the process and wait until it is ready."""
        super().start()
        self.wait_ready(STARTUP_TIMEOUT_S)

    async def _admin(self, method: str, path: str, body: object = None) -> Any:
        headers = {"Authorization": f"Bearer {self.admin_token}"}
        async with httpx.AsyncClient(base_url=self.base_url, timeout=10) as client:
            response = await client.request(method, path, json=body, headers=headers)
        response.raise_for_status()
        return response.json() if response.content else None

    async def create_account(
        self,
        balances: Mapping[str, str | int | Decimal],
        label: str = "",
        futures_wallet: str | int | Decimal | None = None,
    ) -> PaperAccount:
        """Create an account with these free balances (and this USDT futures wallet)."""
        body: dict[str, Any] = {
            "label": label,
            "balances": {a: str(v) for a, v in balances.items()},
        }
        if futures_wallet is not None:
            body["futures_wallet"] = str(futures_wallet)
        created = await self._admin("POST", "/admin/accounts", body)
        return PaperAccount(created["account_id"], created["api_key"], created["secret"])

    async def balances(self, account_id: int) -> dict[str, tuple[Decimal, Decimal]]:
        """Return an account's ``{asset: (free, locked)}``."""
        view = await self._admin("GET", f"/admin/accounts/{account_id}")
        return {b["asset"]: (Decimal(b["free"]), Decimal(b["locked"])) for b in view["balances"]}

    async def set_balances(
        self, account_id: int, balances: Mapping[str, str | int | Decimal]
    ) -> None:
        """Set the free amounts of some assets of an account (as a trade by hand would)."""
        body = {"balances": {a: str(v) for a, v in balances.items()}}
        await self._admin("PUT", f"/admin/accounts/{account_id}/balances", body)

    async def delete_account(self, account_id: int) -> None:
        """Delete an account: its API key stops working and the account is not found."""
        await self._admin("DELETE", f"/admin/accounts/{account_id}")

    async def set_prices(
        self, prices: Mapping[str, str | int | Decimal], *, match: bool = True
    ) -> int:
        """Pin prices; return how many resting orders they filled (none unless ``match``)."""
        body = {"prices": {s: str(p) for s, p in prices.items()}}
        path = "/admin/prices" if match else "/admin/prices?match=false"
        view = await self._admin("PUT", path, body)
        return int(view["filled"])

    async def clear_prices(self) -> None:
        """Unpin every price."""
        await self._admin("DELETE", "/admin/prices")

    async def add_fault(self, kind: str, **spec: object) -> dict[str, Any]:
        """Inject a fault (see services/paper/faults.py for the fields)."""
        fault: dict[str, Any] = await self._admin("POST", "/admin/faults", {"kind": kind, **spec})
        return fault

    async def clear_faults(self) -> None:
        """Remove every injected fault."""
        await self._admin("DELETE", "/admin/faults")

    async def futures(self, account_id: int) -> dict[str, Any]:
        """Return an account's futures wallet and positions (the admin view)."""
        view: dict[str, Any] = (await self._admin("GET", f"/admin/accounts/{account_id}"))[
            "futures"
        ]
        return view

    async def set_futures_wallet(self, account_id: int, usdt: str | int | Decimal) -> None:
        """Set an account's USDT futures wallet."""
        body = {"futures_wallet": str(usdt)}
        await self._admin("PUT", f"/admin/accounts/{account_id}/balances", body)

    async def settle_funding(self) -> int:
        """Pay funding on every open position now; return how many payments were made."""
        view = await self._admin("POST", "/admin/funding")
        return int(view["payments"])

    def futures_client(self, account: PaperAccount, **config: Any) -> Any:
        """Return a ccxt async binanceusdm client for ``account`` (close it after use)."""
        recipe = futures_ccxt_config(self.base_url, account.api_key, account.secret)
        options = {**recipe["options"], **config.pop("options", {})}
        return ccxt_async.binanceusdm({**recipe, **config, "options": options})

    def client(self, account: PaperAccount, **config: Any) -> Any:
        """Return a ccxt async binance client for ``account`` (close it after use).

        ``config`` is added to `ccxt_config`'s; its ``options`` are merged into the recipe's.
        """
        recipe = ccxt_config(self.base_url, account.api_key, account.secret)
        options = {**recipe["options"], **config.pop("options", {})}
        return ccxt_async.binance({**recipe, **config, "options": options})


@contextmanager
def paper_exchange(
    state_dir: Path, settings: Mapping[str, object] | None = None
) -> Iterator[PaperExchangeProcess]:
    """Run a paper exchange keeping its state in ``state_dir``; stop it on exit."""
    process = PaperExchangeProcess(state_dir, settings)
    process.start()
    try:
        yield process
    finally:
        process.stop()
