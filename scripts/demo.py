"""The demo tenant `make run` sets up, through the same APIs an operator and a trader use.

Billing's operator API makes the tenant, its webhook and its API key (shown once, so they are
kept in ``<data>/demo-<namespace>.json``, mode 0600); the paper exchange's admin API makes an
account with 10,000 USDT; the exchange-accounts API (``/api/v1/exchange-accounts``, the
executor's accounts role) stores that account's keys for the tenant as its paper account
``main``. A later run reuses what still works and
replaces only what does not (a wiped database, a deleted paper exchange file).
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from scripts.devstack import StackConfig
from scripts.private_files import read_private_json, write_private_json

ACCOUNT = "main"
FUTURES_ACCOUNT = "futures"  # the same paper account's USDT futures wallet, for perpetuals
FUTURES_WALLET = "10000"
PLAN = "pro"  # enough alerts and orders per hour that trying things out never hits a limit
BALANCES = {"USDT": "10000"}


@dataclass(frozen=True)
class DemoTenant:
    """What was shown once when the demo was made (secrets included: keep it private)."""

    tenant_id: str
    webhook_id: str
    webhook_token: str
    api_key: str
    paper_account_id: int = 0
    paper_api_key: str = ""
    paper_secret: str = ""


def demo_path(cfg: StackConfig) -> Path:
    return cfg.data_dir / f"demo-{cfg.namespace}.json"


def load_demo(path: Path) -> DemoTenant | None:
    """Return the saved demo tenant, or None (no file, or one from an older layout)."""
    data = read_private_json(path)
    if data is None:
        return None
    try:
        return DemoTenant(**data)
    except TypeError:
        return None


def save_demo(path: Path, demo: DemoTenant) -> None:
    write_private_json(path, dataclasses.asdict(demo))


async def ensure_demo(cfg: StackConfig) -> DemoTenant:
    """Return a working demo tenant: the saved one where it still works, else a new one."""
    path = demo_path(cfg)
    saved = load_demo(path)
    async with httpx.AsyncClient(timeout=15) as http:
        apis = _Apis(http, cfg)
        demo = saved if saved and await apis.tenant_works(saved) else await apis.new_tenant()
        save_demo(path, demo)
        new_keys = not await apis.paper_account_works(demo)
        if new_keys:
            demo = await apis.new_paper_account(demo)
            save_demo(path, demo)
        await apis.ensure_exchange_accounts(demo, new_keys=new_keys)
        await apis.wait_until_usable(demo)
    return demo


class _Apis:
    """The calls the demo needs, each answering in words when a service refuses."""

    def __init__(self, http: httpx.AsyncClient, cfg: StackConfig) -> None:
        self.http = http
        self.cfg = cfg
        self.operator = {"Authorization": f"Bearer {cfg.operator_token}"}
        self.paper_admin = {"Authorization": f"Bearer {cfg.paper_admin_token}"}

    @staticmethod
    def tenant_auth(demo: DemoTenant) -> dict[str, str]:
        return {"Authorization": f"Bearer {demo.api_key}"}

    async def call(self, method: str, service: str, path: str, **kwargs: Any) -> Any:
        resp = await self.http.request(method, self.cfg.url(service) + path, **kwargs)
        if resp.is_error:
            raise RuntimeError(
                f"{service} refused {method} {path} ({resp.status_code}): {resp.text[:300]}"
            )
        return resp.json() if resp.content else None

    async def tenant_works(self, demo: DemoTenant) -> bool:
        """Whether billing still accepts the saved API key and ingress the saved webhook."""
        account = await self.http.get(
            self.cfg.url("billing") + "/api/v1/account", headers=self.tenant_auth(demo)
        )
        return account.status_code == 200 and await self._webhook_known(demo)

    async def new_tenant(self) -> DemoTenant:
        body = {"name": "Demo trader", "plan": PLAN, "webhook": {"label": "demo"}}
        path = "/api/v1/tenants"
        made = await self.call("POST", "billing", path, json=body, headers=self.operator)
        return DemoTenant(
            tenant_id=made["tenant"]["tenant_id"],
            webhook_id=made["webhook"]["webhook"]["webhook_id"],
            webhook_token=made["webhook"]["token"],
            api_key=made["api_key"]["key"],
        )

    async def paper_account_works(self, demo: DemoTenant) -> bool:
        """Whether the paper account still exists and takes the saved key (a deleted account
        answers 404, its key -2015 with 401).
        """
        if not demo.paper_account_id:
            return False
        paper = self.cfg.url("paper")
        path = f"/admin/accounts/{demo.paper_account_id}"
        found = await self.http.get(paper + path, headers=self.paper_admin)
        # Unsigned: a known key gets "signature missing" (400), an unknown one 401.
        keyed = await self.http.get(
            paper + "/api/v3/account", headers={"X-MBX-APIKEY": demo.paper_api_key}
        )
        return found.status_code == 200 and keyed.status_code != 401

    async def new_paper_account(self, demo: DemoTenant) -> DemoTenant:
        body = {
            "label": f"demo {demo.tenant_id}",
            "balances": BALANCES,
            "futures_wallet": FUTURES_WALLET,
        }
        admin = self.paper_admin
        made = await self.call("POST", "paper", "/admin/accounts", json=body, headers=admin)
        return dataclasses.replace(
            demo,
            paper_account_id=made["account_id"],
            paper_api_key=made["api_key"],
            paper_secret=made["secret"],
        )

    async def ensure_exchange_accounts(self, demo: DemoTenant, *, new_keys: bool) -> None:
        """Give the tenant its paper accounts with the current keys (valid): ``main`` (spot)
        and ``futures`` (the same paper account's futures wallet)."""
        await self.ensure_exchange_account(demo, ACCOUNT, "spot", new_keys=new_keys)
        await self.ensure_exchange_account(demo, FUTURES_ACCOUNT, "futures", new_keys=new_keys)

    async def ensure_exchange_account(
        self, demo: DemoTenant, label: str, market_type: str, *, new_keys: bool
    ) -> None:
        """Give the tenant its paper account ``label`` with the current keys (valid)."""
        auth = self.tenant_auth(demo)
        accounts = "/api/v1/exchange-accounts"
        await self.wait_ok("accounts", accounts, auth)
        found = await self.http.get(f"{self.cfg.url('accounts')}{accounts}/{label}", headers=auth)
        keys = {"api_key": demo.paper_api_key, "secret": demo.paper_secret}
        if found.status_code == 404:
            body = {"label": label, "exchange_id": "binance", "mode": "paper", **keys}
            body["market_type"] = market_type
            account = await self.call("POST", "accounts", accounts, json=body, headers=auth)
        elif new_keys or found.json().get("status") != "valid":
            path = f"{accounts}/{label}"
            account = await self.call("PATCH", "accounts", path, json=keys, headers=auth)
        else:
            return
        if account.get("status") != "valid":
            raise RuntimeError(
                f"the accounts API could not validate the demo paper account "
                f"({account.get('status')}): "
                f"{account.get('status_message')}"
            )

    async def wait_until_usable(self, demo: DemoTenant) -> None:
        """Wait until ingress knows the webhook and the router and ledger know the API key."""
        await _wait(lambda: self._webhook_known(demo), "ingress to know the demo webhook")
        await self.wait_ok("router", "/api/v1/settings", self.tenant_auth(demo))
        await self.wait_ok("ledger", "/api/v1/positions", self.tenant_auth(demo))

    async def wait_ok(self, service: str, path: str, headers: dict[str, str]) -> None:
        """Wait until ``service`` answers 200 (its copy of the API keys has the new one)."""

        async def ok() -> bool:
            resp = await self.http.get(self.cfg.url(service) + path, headers=headers)
            return resp.status_code == 200

        await _wait(ok, f"{service} to accept the demo API key")

    async def _webhook_known(self, demo: DemoTenant) -> bool:
        # An empty object is refused as a bad alert (400) only once the token is known (401
        # before): authentication comes first, and nothing is stored.
        resp = await self.http.post(webhook_url(self.cfg, demo), content=b"{}")
        return resp.status_code == 400


def webhook_url(cfg: StackConfig, demo: DemoTenant) -> str:
    """The webhook URL (built here, so a change of ingress port needs no new token)."""
    return f"{cfg.url('ingress')}/webhooks/tv/{demo.webhook_token}"


async def _wait(check: Callable[[], Awaitable[bool]], what: str, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not await check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"gave up waiting for {what} ({timeout_s:.0f} s)")
        await asyncio.sleep(0.1)
