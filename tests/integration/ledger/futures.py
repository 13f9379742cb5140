"""Hand-built futures events for the ledger's tests: entries with leverage, their take-profit
and stop-loss, marks, funding, protections that failed.

    entry = Order("tenant-a", symbol=PERP)
    tp = Protection.of(entry, OrderRole.TAKE_PROFIT)
    events = [*entry.opened(), entry.filled(...), tp.placed("1", trigger="110"), ...]
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from libs.common.ids import TenantId, new_id
from libs.common.messages import (
    Event,
    FundingPaid,
    OrderRole,
    OrderSubmitted,
    OrderType,
    PositionMarked,
    ProtectionFailed,
    Side,
)
from tests.helpers.ledger import Order, fill, tick

PERP = "BTC/USDT:USDT"
_SUFFIX = {OrderRole.TAKE_PROFIT: "tp", OrderRole.STOP_LOSS: "sl"}
_TYPE = {OrderRole.TAKE_PROFIT: OrderType.TAKE_PROFIT, OrderRole.STOP_LOSS: OrderType.STOP}


@dataclass(frozen=True)
class Protection(Order):
    """A take-profit or stop-loss of an entry: its events carry the entry's intent."""

    role: OrderRole = OrderRole.TAKE_PROFIT
    parent: str = ""

    @classmethod
    def of(cls, entry: Order, role: OrderRole) -> Protection:
        opposite = Side.SELL if entry.side is Side.BUY else Side.BUY
        return cls(
            entry.tenant_id,
            intent_id=entry.intent_id,
            leg=entry.leg,
            account=entry.account,
            exchange=entry.exchange,
            symbol=entry.symbol,
            side=opposite,
            role=role,
            parent=entry.client_order_id,
        )

    @property
    def client_order_id(self) -> str:
        return f"{self.parent}{_SUFFIX[self.role]}"

    def _order(self, at: datetime | None) -> dict[str, object]:
        return super()._order(at) | {"role": self.role, "parent_client_order_id": self.parent}

    def placed(self, amount: str, *, trigger: str) -> OrderSubmitted:
        """The protective order resting on the exchange, reduce-only, until its trigger."""
        submitted = self.submitted(amount)
        return submitted.model_copy(
            update={
                "order_type": _TYPE[self.role],
                "trigger_price": Decimal(trigger),
                "reduce_only": True,
            }
        )


def entry_with_leverage(order: Order, amount: str, leverage: str = "5") -> list[Event]:
    """The alert accepted and its entry submitted with ``leverage``."""
    submitted = order.submitted(amount).model_copy(update={"leverage": Decimal(leverage)})
    return [order.accepted(), submitted]


def protection_failed(entry: Order, role: OrderRole, reason: str) -> ProtectionFailed:
    """The entry filled but its ``role`` order could not be placed."""
    fields = entry.filled(fill(new_id(), "1", "1")).model_dump(
        include={"tenant_id", "correlation_id", "causation_id", "intent_id", "client_order_id"}
        | {"account_label", "exchange_id", "symbol", "side"}
    )
    return ProtectionFailed.model_validate(
        fields | {"occurred_at": tick(), "protection": role, "reason": reason}
    )


def marked(
    tenant_id: str,
    quantity: str,
    entry: str,
    mark: str,
    pnl: str,
    *,
    at: datetime,
    liquidation: str | None = None,
    account: str = "main",
    symbol: str = PERP,
) -> PositionMarked:
    """The venue's view of a position at ``at``."""
    return PositionMarked(
        tenant_id=TenantId(tenant_id),
        correlation_id=(cause := new_id()),
        causation_id=cause,
        account_label=account,
        exchange_id="binance",
        symbol=symbol,
        quantity=Decimal(quantity),
        entry_price=Decimal(entry),
        mark_price=Decimal(mark),
        unrealized_pnl=Decimal(pnl),
        liquidation_price=None if liquidation is None else Decimal(liquidation),
        marked_at=at,
    )


def funding(
    tenant_id: str,
    amount: str,
    funding_id: str,
    *,
    at: datetime,
    account: str = "main",
    symbol: str = PERP,
) -> FundingPaid:
    """A funding payment (negative: paid) booked by the venue at ``at``."""
    return FundingPaid(
        tenant_id=TenantId(tenant_id),
        correlation_id=(cause := new_id()),
        causation_id=cause,
        account_label=account,
        exchange_id="binance",
        symbol=symbol,
        amount=Decimal(amount),
        currency="USDT",
        funding_id=funding_id,
        paid_at=at,
    )


def futures_story(tenant_id: str) -> list[Event]:
    """A long with TP and SL whose TP fills (SL canceled); a short bought back; a new long;
    marks (one late, older than the kept one); funding (one reported twice); a protection
    that failed.
    """
    long = Order(tenant_id, symbol=PERP)
    tp, sl = Protection.of(long, OrderRole.TAKE_PROFIT), Protection.of(long, OrderRole.STOP_LOSS)
    short = Order(tenant_id, symbol="ETH/USDT:USDT", side=Side.SELL)
    cover = Order(tenant_id, symbol="ETH/USDT:USDT", side=Side.BUY)
    lone = Order(tenant_id, symbol=PERP)
    t1, t2 = tick(), tick()
    return [
        *entry_with_leverage(long, "1"),
        long.filled(fill("l1", "100", "1", fee="0.04")),
        tp.placed("1", trigger="102"),
        sl.placed("1", trigger="99"),
        marked(tenant_id, "1", "100", "101", "1", at=t2, liquidation="80"),
        marked(tenant_id, "1", "100", "100.5", "0.5", at=t1),  # late: older than kept
        funding(tenant_id, "-0.01", "f1", at=t2),
        funding(tenant_id, "-0.01", "f1", at=t2),  # reported again
        tp.filled(fill("tp1", "102", "1", fee="0.04")),
        sl.canceled(),
        *short.trade(fill("s1", "3000", "2", fee="1.2")),
        *cover.trade(fill("c1", "2900", "2", fee="1.16")),
        *lone.trade(fill("o1", "105", "0.5")),
        protection_failed(lone, OrderRole.STOP_LOSS, "The stop would trigger at once."),
    ]
