"""ccxt clients: one per (tenant, account), pooled with an upper bound, closed on eviction.

A client is leased for the duration of a use; evicting a leased client only retires it, and
it is closed when its last lease ends, so no call is cut off. Markets are loaded once per
(exchange, mode) by a key-less reference client and shared with every tenant's client.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import ccxt.async_support as ccxt

from libs.common.messages import AccountMode
from services.executor.adapters.budget import Budgets, BudgetSettings
from services.executor.adapters.credentials import Credentials
from services.executor.adapters.exchange import ExchangeSession
from services.executor.adapters.http import SharedHttp
from services.executor.adapters.metering import meter
from services.executor.adapters.translate import translate
from services.executor.adapters.venues import Venue, all_venues
from services.executor.metrics import CLIENTS

CALL_SLACK_S = 5.0


@dataclass(frozen=True, slots=True)
class ClientSettings:
    """What every client shares."""

    paper_url: str
    timeout_ms: int = 10_000
    markets_ttl_s: float = 3600.0
    price_ttl_s: float = 1.0
    settle_s: float | None = None
    """Overrides every venue's settle time (tests)."""
    budget: BudgetSettings = field(default_factory=BudgetSettings)
    paper_weight: tuple[float | None, float] = (None, 60.0)
    """The paper exchange's request-weight limit and interval (None: not limited)."""

    @property
    def call_bound_s(self) -> float:
        """How long an order creation may take, ccxt's throttling included: its timeout and
        a little more (beyond it the call is abandoned and the order looked up).
        """
        return self.timeout_ms / 1000 + CALL_SLACK_S


def client_config(
    venue: Venue, mode: AccountMode, settings: ClientSettings, credentials: Credentials | None
) -> dict[str, Any]:
    """Return the ccxt constructor config of a client (no keys for the reference client)."""
    config: dict[str, Any] = {
        "enableRateLimit": True,
        "timeout": settings.timeout_ms,
        "options": dict(venue.options),
    }
    if credentials is not None:
        config |= {"apiKey": credentials.api_key, "secret": credentials.secret}
        if credentials.passphrase:
            config["password"] = credentials.passphrase
    if mode is AccountMode.PAPER:
        root = settings.paper_url.rstrip("/")
        config["urls"] = {"api": {key: root + path for key, path in venue.paper_urls.items()}}
        config["options"] |= venue.paper_options
        if venue.paper_error_map is not None:
            config["exceptions"] = {"exact": error_map(venue.ccxt_class, venue.paper_error_map)}
    return config


@functools.cache
def error_map(ccxt_class: str, section: str) -> dict[str, Any]:
    """Return a section of a ccxt class's exact error map (built once per process)."""
    exchange = getattr(ccxt, ccxt_class)()
    return dict(exchange.exceptions[section]["exact"])


def new_client(
    venue: Venue,
    mode: AccountMode,
    settings: ClientSettings,
    credentials: Credentials | None,
    *,
    http: SharedHttp | None = None,
    budgets: Budgets | None = None,
) -> ccxt.Exchange:
    """Build an async ccxt client for ``venue`` in ``mode`` (on the shared HTTP pool and
    request-weight budget of the process, if given).
    """
    client: ccxt.Exchange = getattr(ccxt, venue.ccxt_class)(
        client_config(venue, mode, settings, credentials)
    )
    if mode is AccountMode.TESTNET:
        client.set_sandbox_mode(True)
    if http is not None:
        http.attach(client)
    if budgets is not None and venue.weight is not None:
        rule = venue.weight
        budget = budgets.of(budget_name(venue, mode), rule.limit, rule.interval_s)
        meter(client, rule, budget)
    return client


def budget_name(venue: Venue, mode: AccountMode) -> str:
    """Name the budget of a venue's address in ``mode`` (live, testnet and paper differ, and
    so do a venue's spot and futures APIs, which Binance limits apart)."""
    return f"{venue.ccxt_class}/{mode.value}"


def new_budgets(settings: ClientSettings) -> Budgets:
    """Build the process's budgets; the paper exchange's limit is its own setting."""
    paper = AccountMode.PAPER
    overrides = {budget_name(v, paper): settings.paper_weight for v in all_venues() if v.paper}
    return Budgets(settings.budget, overrides)


@dataclass
class _Markets:
    client: ccxt.Exchange
    loaded_at: float = 0.0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    prices: dict[str, tuple[float, asyncio.Task[Decimal | None]]] = field(default_factory=dict)


class MarketCache:
    """Markets and last prices per (exchange, mode), fetched by one key-less client and
    shared by every tenant's client: public data is asked for once, not once per tenant.
    """

    def __init__(self, settings: ClientSettings, http: SharedHttp, budgets: Budgets) -> None:
        self._settings = settings
        self._http = http
        self._budgets = budgets
        self._refs: dict[tuple[str, str, AccountMode], _Markets] = {}

    def _ref(self, venue: Venue, mode: AccountMode) -> _Markets:
        key = (venue.exchange_id, venue.market.value, mode)
        ref = self._refs.get(key)
        if ref is None:
            client = new_client(
                venue, mode, self._settings, None, http=self._http, budgets=self._budgets
            )
            ref = _Markets(client)
            self._refs[key] = ref
        return ref

    async def last_price(self, venue: Venue, mode: AccountMode, symbol: str) -> Decimal | None:
        """Return the symbol's last price, at most ``price_ttl_s`` old; concurrent askers share
        one request.
        """
        ref, now = self._ref(venue, mode), time.monotonic()
        cached = ref.prices.get(symbol)
        if cached is None or now - cached[0] >= self._settings.price_ttl_s:
            session = ExchangeSession(ref.client, venue)
            cached = (now, asyncio.ensure_future(session.own_last_price(symbol)))
            ref.prices[symbol] = cached
        try:
            return await asyncio.shield(cached[1])
        except Exception:
            ref.prices.pop(symbol, None)  # do not cache a failure
            raise

    async def share(self, venue: Venue, mode: AccountMode, client: ccxt.Exchange) -> None:
        """Give ``client`` the venue's markets, loading or reloading them when needed."""
        ref = self._ref(venue, mode)
        async with ref.lock:
            if (
                time.monotonic() - ref.loaded_at >= self._settings.markets_ttl_s
                or not ref.loaded_at
            ):
                try:
                    await ref.client.load_markets(reload=True)
                except ccxt.BaseError as exc:
                    raise translate(exc, venue) from exc
                ref.loaded_at = time.monotonic()
        if client.markets is not ref.client.markets:
            client.set_markets_from_exchange(ref.client)

    async def close(self) -> None:
        for ref in self._refs.values():
            with contextlib.suppress(Exception):
                await ref.client.close()
        self._refs.clear()


@dataclass
class _Slot:
    session: ExchangeSession
    identity: tuple[str, str, str, str]  # keys, exchange, market, mode: a change needs a new one
    leases: int = 0
    retired: bool = False


PoolKey = tuple[str, str]  # (tenant_id, label)


class ClientPool:
    """A bounded LRU of sessions by (tenant, label)."""

    def __init__(self, settings: ClientSettings, max_size: int) -> None:
        self.settings = settings
        self._max = max_size
        self._slots: OrderedDict[PoolKey, _Slot] = OrderedDict()
        self.http = SharedHttp()
        self.budgets = new_budgets(settings)
        self.markets = MarketCache(settings, self.http, self.budgets)

    def __len__(self) -> int:
        return len(self._slots)

    @contextlib.asynccontextmanager
    async def lease(
        self, key: PoolKey, venue: Venue, mode: AccountMode, credentials: Credentials
    ) -> AsyncIterator[ExchangeSession]:
        """Lend the account's session (a new one if the keys changed) for one use."""
        slot = self._slot(key, venue, mode, credentials)
        slot.leases += 1
        try:
            await self.markets.share(venue, mode, slot.session.client)
            slot.session.prices = lambda symbol: self.markets.last_price(venue, mode, symbol)
            yield slot.session
        finally:
            slot.leases -= 1
            if slot.retired and slot.leases == 0:
                await slot.session.close()

    async def discard(self, key: PoolKey) -> None:
        """Close the account's client (its keys were updated or removed)."""
        slot = self._slots.pop(key, None)
        if slot is not None:
            await self._retire(slot)

    async def close(self) -> None:
        for key in list(self._slots):
            await self.discard(key)
        await self.markets.close()
        await self.http.close()

    def _slot(
        self, key: PoolKey, venue: Venue, mode: AccountMode, credentials: Credentials
    ) -> _Slot:
        identity = (credentials.fingerprint, venue.exchange_id, venue.market.value, mode.value)
        slot = self._slots.get(key)
        if slot is not None and slot.identity == identity:
            self._slots.move_to_end(key)
            return slot
        if slot is not None:
            self._spawn_retire(self._slots.pop(key))
        client = new_client(
            venue, mode, self.settings, credentials, http=self.http, budgets=self.budgets
        )
        session = ExchangeSession(
            client,
            venue,
            settle_s=self.settings.settle_s,
            call_bound_s=self.settings.call_bound_s,
        )
        slot = _Slot(session, identity)
        self._slots[key] = slot
        while len(self._slots) > self._max:
            self._spawn_retire(self._slots.popitem(last=False)[1])
        CLIENTS.set(len(self._slots))
        return slot

    def _spawn_retire(self, slot: _Slot) -> None:
        task = asyncio.get_running_loop().create_task(self._retire(slot))
        _BACKGROUND.add(task)
        task.add_done_callback(_BACKGROUND.discard)

    async def _retire(self, slot: _Slot) -> None:
        slot.retired = True
        if slot.leases == 0:
            with contextlib.suppress(Exception):
                await slot.session.close()
        CLIENTS.set(len(self._slots))


_BACKGROUND: set[asyncio.Task[None]] = set()
