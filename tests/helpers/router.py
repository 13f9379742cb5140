"""Builders for the router's tests and benchmark: plain alerts, accounts, and a `Bus` that
writes the config plane, publishes intents and reads back what the router produced."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import DeliverPolicy

from libs.common.ids import new_id
from libs.common.messages import (
    AccountMode,
    Action,
    Alert,
    CancelOrders,
    Instrument,
    IntentRejected,
    OrderIntent,
    OrderType,
    PlaceOrder,
    QuantityType,
    decode_command,
)
from libs.common.publishing import KEY_HEADER
from libs.common.records import (
    AccountRecord,
    AccountStatus,
    ApiKeyRecord,
    MarketType,
    TenantRecord,
    account_key,
    secret_digest,
)
from libs.common.signing import Issuer
from libs.common.topology import Topology
from services.router.domain.trade_settings import TradeSettingsLayer
from tests import factories
from tests.helpers.signing import signed_by

# A Wednesday, 12:00 UTC.
NOON = datetime(2026, 1, 7, 12, 0, tzinfo=UTC)


def instrument(raw: str = "BINANCE:BTCUSDT") -> Instrument:
    """Parse a ticker the way ingress does, for the shapes the tests use."""
    exchange, _, rest = raw.rpartition(":") if ":" in raw and "/" not in raw else ("", "", raw)
    perpetual = rest.upper().endswith(".P")
    symbol = rest[:-2] if perpetual else rest
    base = quote = None
    if "/" in symbol:
        base, _, quote = symbol.partition("/")
        quote = quote.split(":")[0]
    return Instrument(
        raw=raw,
        exchange=exchange or None,
        symbol=symbol,
        base=base,
        quote=quote,
        perpetual=perpetual,
    )


def plain_alert(**overrides: Any) -> Alert:
    """A market buy of 0.01 BTCUSDT on account "main"; override any field."""
    fields: dict[str, Any] = {
        "action": Action.BUY,
        "instrument": instrument(),
        "account": "main",
        "quantity": Decimal("0.01"),
        "quantity_type": QuantityType.BASE,
        "order_type": OrderType.MARKET,
    }
    return Alert(**(fields | overrides))


def intent(
    tenant_id: str = "tenant-a", *, received_at: datetime | None = None, **alert_overrides: Any
) -> OrderIntent:
    """An intent carrying `plain_alert` with ``alert_overrides``, received now (or then).

    Received now, it is never stale for a router running on the real clock, nor for a
    decision at `NOON`, which is earlier.
    """
    return factories.order_intent(
        tenant_id,
        alert=plain_alert(**alert_overrides),
        dedup_key=new_id(),
        received_at=received_at or datetime.now(UTC),
    )


def account(tenant_id: str = "tenant-a", label: str = "main", **overrides: Any) -> AccountRecord:
    """A valid paper spot account on Binance."""
    fields: dict[str, Any] = {
        "tenant_id": tenant_id,
        "label": label,
        "exchange_id": "binance",
        "mode": AccountMode.PAPER,
        "market_type": MarketType.SPOT,
        "status": AccountStatus.VALID,
        "updated_at": factories.T0,
    }
    return AccountRecord(**(fields | overrides))


def futures(tenant_id: str = "tenant-a", label: str = "main", **overrides: Any) -> AccountRecord:
    """A valid paper futures account on Binance USDⓈ-M."""
    return account(tenant_id, label, market_type=MarketType.FUTURES, **overrides)


def layer(**fields: Any) -> TradeSettingsLayer:
    return TradeSettingsLayer.model_validate(fields)


class Bus:
    """The NATS side of a router test: config plane in, intents in, orders and rejections out."""

    def __init__(self, js: JetStreamContext, topology: Topology) -> None:
        self.js = js
        self.topology = topology

    async def put_tenant(self, record: TenantRecord) -> None:
        kv = await self.js.key_value(self.topology.tenants_bucket)
        await kv.put(record.tenant_id, record.model_dump_json().encode())

    async def put_account(self, record: AccountRecord) -> None:
        kv = await self.js.key_value(self.topology.accounts_bucket)
        await kv.put(account_key(record.tenant_id, record.label), record.model_dump_json().encode())

    async def put_api_key(self, key: str, record: ApiKeyRecord) -> None:
        kv = await self.js.key_value(self.topology.api_keys_bucket)
        await kv.put(secret_digest(key), record.model_dump_json().encode())

    async def publish(
        self,
        order_intent: OrderIntent,
        msg_id: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Publish as ingress does (the dedup key as Nats-Msg-Id unless given, the market as
        the ordering key)."""
        await self.js.publish(
            self.topology.intent_subject(order_intent.tenant_id),
            order_intent.to_json(),
            stream=self.topology.intents_stream,
            headers={
                "Nats-Msg-Id": msg_id or order_intent.dedup_key,
                KEY_HEADER: order_intent.ordering_key,
                **(headers or {}),
            },
        )

    async def orders(
        self, count: int, tenant: str = "*", timeout_s: float = 20
    ) -> list[PlaceOrder]:
        """Return the first ``count`` orders (of one tenant, or all) in stream order."""
        subject = f"{self.topology.namespace}.orders.*.{tenant}"
        payloads = await self.read(subject, count, timeout_s, signed=True)
        return [PlaceOrder.model_validate_json(p) for p in payloads]

    async def commands(
        self, count: int, tenant: str = "*", timeout_s: float = 20
    ) -> list[PlaceOrder | CancelOrders]:
        """Return the first ``count`` commands of ORDERS (orders and cancels) in stream order."""
        subject = f"{self.topology.namespace}.orders.*.{tenant}"
        payloads = await self.read(subject, count, timeout_s, signed=True)
        return [decode_command(p) for p in payloads]

    async def rejections(
        self, count: int, tenant: str = "*", timeout_s: float = 20
    ) -> list[IntentRejected]:
        """Return the first ``count`` rejections (of one tenant, or all) in stream order."""
        subject = self.topology.event_subject(tenant, "intent.rejected")
        payloads = await self.read(subject, count, timeout_s)
        return [IntentRejected.model_validate_json(p) for p in payloads]

    async def read(
        self, subject: str, count: int, timeout_s: float, *, signed: bool = False
    ) -> list[bytes]:
        """Read ``count`` messages of ``subject`` from the start, then check none follows (and,
        when ``signed``, that the router signed each with its key)."""
        sub = await self.js.subscribe(
            subject, ordered_consumer=True, deliver_policy=DeliverPolicy.ALL
        )
        payloads: list[bytes] = []
        try:
            async with asyncio.timeout(timeout_s):
                while len(payloads) < count:
                    msg = await sub.next_msg(timeout=timeout_s)
                    assert not signed or signed_by(msg) is Issuer.ROUTER
                    payloads.append(msg.data)
            with contextlib.suppress(NatsTimeoutError, TimeoutError):
                payloads.append((await sub.next_msg(timeout=0.3)).data)
        finally:
            await sub.unsubscribe()
        return payloads
