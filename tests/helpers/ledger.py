"""Hand-built events for the ledger's tests (until the executor emits real ones).

`Order` keeps the ids of one order of one alert, so a test reads like the story it tells::

    order = Order("tenant-a", side=Side.BUY)
    events = [*order.opened(), order.filled(fill("t1", "100", "1"))]
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from nats.js import JetStreamContext

from libs.common.ids import new_id
from libs.common.messages import (
    Action,
    Event,
    Fill,
    IntentAccepted,
    IntentRejected,
    OrderCanceled,
    OrderFailed,
    OrderFilled,
    OrderRejected,
    OrderSubmitted,
    OrderType,
    RejectReason,
    Side,
)
from libs.common.topology import Topology
from tests import factories

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
_clock = itertools.count()


def tick(seconds: float = 1.0) -> datetime:
    """Return a later time on each call (events of a test happen in order)."""
    return T0 + timedelta(seconds=seconds * next(_clock))


def fill(
    trade_id: str,
    price: str | Decimal,
    amount: str | Decimal,
    *,
    fee: str | Decimal = "0",
    fee_currency: str | None = "USDT",
    at: datetime | None = None,
) -> Fill:
    """Return one execution."""
    return Fill(
        trade_id=trade_id,
        price=Decimal(price),
        amount=Decimal(amount),
        fee=Decimal(fee),
        fee_currency=fee_currency,
        filled_at=at or tick(),
    )


@dataclass(frozen=True)
class Order:
    """One order of one alert: builds the events the router and executor would emit."""

    tenant_id: str
    intent_id: str = field(default_factory=new_id)
    leg: int = 0
    account: str = "main"
    exchange: str = "binance"
    symbol: str = "BTC/USDT"
    side: Side = Side.BUY
    strategy: str | None = None

    @property
    def client_order_id(self) -> str:
        return f"sp{self.intent_id}{self.leg}"

    def _envelope(self, at: datetime | None) -> dict[str, object]:
        return {
            "tenant_id": self.tenant_id,
            "correlation_id": self.intent_id,
            "causation_id": self.intent_id,
            "occurred_at": at or tick(),
        }

    def _order(self, at: datetime | None) -> dict[str, object]:
        return self._envelope(at) | {
            "intent_id": self.intent_id,
            "client_order_id": self.client_order_id,
            "account_label": self.account,
            "exchange_id": self.exchange,
            "symbol": self.symbol,
            "side": self.side,
        }

    def accepted(self, *, at: datetime | None = None) -> IntentAccepted:
        action = Action.BUY if self.side is Side.BUY else Action.SELL
        return IntentAccepted.model_validate(
            self._envelope(at)
            | {
                "intent_id": self.intent_id,
                "webhook_id": new_id(),
                "action": action,
                "symbol": "BINANCE:" + self.symbol.replace("/", ""),
                "received_at": at or T0,
                "strategy": self.strategy,
            }
        )

    def rejected(
        self, reason: RejectReason = RejectReason.QUOTA_EXCEEDED, *, at: datetime | None = None
    ) -> IntentRejected:
        return IntentRejected.model_validate(
            self._envelope(at)
            | {
                "intent_id": self.intent_id,
                "reason": reason,
                "message": "You reached your plan's 20 orders per day.",
            }
        )

    def submitted(self, amount: str = "1", *, at: datetime | None = None) -> OrderSubmitted:
        return OrderSubmitted.model_validate(
            self._order(at)
            | {
                "exchange_order_id": f"x-{self.client_order_id}",
                "order_type": OrderType.MARKET,
                "amount": Decimal(amount),
                "submitted_at": at or T0,
            }
        )

    def filled(
        self, *fills: Fill, complete: bool = True, at: datetime | None = None
    ) -> OrderFilled:
        return OrderFilled.model_validate(
            self._order(at)
            | {
                "exchange_order_id": f"x-{self.client_order_id}",
                "fills": fills,
                "complete": complete,
            }
        )

    def exchange_rejected(self, reason: str = "Insufficient balance.") -> OrderRejected:
        return OrderRejected.model_validate(self._order(None) | {"reason": reason, "code": "-2010"})

    def failed(self, reason: str = "Exchange unreachable for 60 s.") -> OrderFailed:
        return OrderFailed.model_validate(self._order(None) | {"reason": reason})

    def canceled(self, filled_amount: str = "0") -> OrderCanceled:
        return OrderCanceled.model_validate(
            self._order(None)
            | {
                "exchange_order_id": f"x-{self.client_order_id}",
                "filled_amount": Decimal(filled_amount),
                "reason": "canceled by alert",
            }
        )

    def opened(self, amount: str = "1") -> list[Event]:
        """Return the alert accepted and the order submitted."""
        return [self.accepted(), self.submitted(amount)]

    def trade(self, *fills: Fill) -> list[Event]:
        """Return the whole story of a market order that filled with ``fills``."""
        return [*self.opened(), self.filled(*fills)]


async def publish(
    js: JetStreamContext, topology: Topology, events: Iterable[Event], *, twice: bool = False
) -> int:
    """Publish ``events`` in order (each stored twice when ``twice``); return the last seq."""
    last = 0
    for event in events:
        subject = topology.event_subject(event.tenant_id, event.kind)
        copies = (event.message_id, event.message_id + "-again") if twice else (event.message_id,)
        for msg_id in copies:
            ack = await js.publish(subject, event.to_json(), headers={"Nats-Msg-Id": msg_id})
            last = ack.seq
    return last


def rich_story(tenant_id: str) -> list[Event]:
    """Alerts of every fate: rejected, a close-then-open in two legs, partial fills, a cancel,
    an exchange rejection, a failure; fees in quote, base and a third currency; two accounts,
    two symbols, two UTC days.
    """
    day2 = T0 + timedelta(days=1)
    buy = Order(tenant_id)
    rejected = Order(tenant_id)
    close = Order(tenant_id, side=Side.SELL)
    reopen = Order(tenant_id, intent_id=close.intent_id, leg=1, side=Side.SELL)
    eth = Order(tenant_id, account="swing", symbol="ETH/USDT:USDT")
    refused, broken = Order(tenant_id), Order(tenant_id)
    return [
        *buy.opened("2"),
        buy.filled(fill("b1", "100", "0.5", fee="0.05"), complete=False),
        buy.filled(fill("b2", "101", "1.5", fee="0.0015", fee_currency="BTC")),
        rejected.accepted(),
        rejected.rejected(),
        close.accepted(),
        close.submitted("2"),
        close.filled(fill("c1", "110", "2", fee="0.22", at=day2)),
        reopen.submitted("1"),
        reopen.filled(
            fill("r1", "111", "0.25", fee="0.01", fee_currency="BNB", at=day2 + MINUTE),
            complete=False,
        ),
        reopen.canceled("0.25"),
        *eth.trade(fill("e1", "3000.5", "0.1", fee="0.3", at=day2 + 2 * MINUTE)),
        *refused.opened(),
        refused.exchange_rejected(),
        *broken.opened(),
        broken.failed(),
    ]


def strategy_story(tenant_id: str) -> list[Event]:
    """Alerts of two strategies, one without, and a refusal: a win and losses, a fill
    projected before its alert (ingress's event late), a rejection, PnL in USDT and EUR."""
    day2 = T0 + timedelta(days=1)
    buy, sell = (
        Order(tenant_id, strategy="Trend"),
        Order(tenant_id, side=Side.SELL, strategy="Trend"),
    )
    eur_buy = Order(tenant_id, strategy="Swing", symbol="BTC/EUR")
    eur_sell = Order(tenant_id, side=Side.SELL, strategy="Swing", symbol="BTC/EUR")
    eth = Order(tenant_id, account="swing", symbol="ETH/USDT", strategy="Swing")
    refused, plain = Order(tenant_id, strategy="Swing"), Order(tenant_id)
    return [
        *buy.trade(fill("k1", "100", "1", fee="0")),
        sell.submitted("1"),
        sell.filled(fill("k2", "130.50", "1", fee="0", at=day2)),
        sell.accepted(at=T0 + MINUTE),
        *eur_buy.trade(fill("k3", "90", "1", fee="0")),
        *eur_sell.trade(fill("k4", "80", "0.5", fee="0.10", fee_currency="EUR", at=day2)),
        *eth.trade(fill("k5", "2000", "0.1", fee="0.2")),
        refused.accepted(at=day2 + MINUTE),
        refused.rejected(),
        *plain.trade(fill("k6", "101", "0.1")),
        factories.alert_refused(tenant_id),
    ]
