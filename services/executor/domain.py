"""The executor's own records: exchange accounts, order submissions (never any key), moved
through the shared order state machine (`OrderRecord.moved`), and a market's rules. Pure."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from libs.common.fsm import OrderState, transition
from libs.common.ids import ClientOrderId, IntentId, TenantId
from libs.common.messages import AccountMode, OrderRole, OrderType, PlaceOrder, PriceTarget, Side
from libs.common.records import AccountRecord, AccountStatus, MarketType


@dataclass(frozen=True, slots=True)
class Account:
    """A tenant's exchange account: metadata and validation status."""

    tenant_id: TenantId
    label: str
    exchange_id: str
    mode: AccountMode
    market_type: MarketType
    status: AccountStatus
    status_message: str | None
    validated_at: datetime | None
    keys_updated_at: datetime
    created_at: datetime
    updated_at: datetime

    def record(self) -> AccountRecord:
        """Return what the router reads from the ``accounts`` bucket."""
        return AccountRecord(
            tenant_id=self.tenant_id,
            label=self.label,
            exchange_id=self.exchange_id,
            mode=self.mode,
            market_type=self.market_type,
            status=self.status,
            updated_at=self.updated_at,
        )


@dataclass(frozen=True, slots=True)
class TradingAccount:
    """What trading needs of an account; ``changed_at`` invalidates cached keys."""

    tenant_id: TenantId
    label: str
    exchange_id: str
    mode: AccountMode
    market_type: MarketType
    changed_at: datetime

    @classmethod
    def of(cls, account: Account | AccountRecord) -> TradingAccount:
        changed = account.keys_updated_at if isinstance(account, Account) else account.updated_at
        return cls(
            tenant_id=account.tenant_id,
            label=account.label,
            exchange_id=account.exchange_id,
            mode=account.mode,
            market_type=account.market_type,
            changed_at=changed,
        )


@dataclass(frozen=True, slots=True)
class Held:
    """A strategy position (Sparky's own fills, net of fees taken in the coin), and the fees
    taken in the coin since it was last flat.
    """

    quantity: Decimal = Decimal(0)
    coin_fees: Decimal = Decimal(0)


class Protection(StrEnum):
    """Where an entry's protective orders are: owed from its fill, then placed or failed."""

    OWED = "owed"
    PLACED = "placed"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class OrderRecord:
    """One order submission; ``version`` guards against two writers."""

    client_order_id: ClientOrderId
    tenant_id: TenantId
    partition: int
    intent_id: IntentId
    place_order_id: str
    account_label: str
    exchange_id: str
    mode: AccountMode
    symbol: str
    side: Side
    order_type: OrderType
    state: OrderState
    received_at: datetime
    created_at: datetime
    updated_at: datetime
    amount: Decimal | None = None
    price: Decimal | None = None
    exchange_order_id: str | None = None
    filled: Decimal = Decimal(0)
    reported_trades: tuple[str, ...] = ()
    sent_at: datetime | None = None
    """When a creation of this order may last have reached the exchange (None: none may)."""
    reason: str | None = None
    reason_code: str | None = None
    failure_reported: bool = False
    version: int = 0
    expected_position: Decimal | None = None
    """TradingView's position of the strategy after this order, when the alert said it."""
    healed: bool = False
    """Sized to restore ``expected_position`` instead of by the alert's own sizing."""
    position_before: Decimal | None = None
    """The strategy position sizing started from (before ``written_off``), when it read it."""
    written_off: Decimal = Decimal(0)
    """Strategy coins the wallet no longer held, taken off the position with this record."""
    note: str | None = None
    """Why the order's size differs from what the alert asked, for the trader."""
    role: OrderRole = OrderRole.ORDER
    parent_client_order_id: ClientOrderId | None = None
    """A protective order's entry."""
    reduce_only: bool = False
    trigger_price: Decimal | None = None
    leverage: Decimal | None = None
    average_price: Decimal | None = None
    """The average price of the fills so far."""
    take_profit: str | None = None
    stop_loss: str | None = None
    """The entry's targets (a `PriceTarget` as JSON), placed once it has filled."""
    protection: Protection | None = None

    @property
    def protective(self) -> bool:
        return self.role in (OrderRole.TAKE_PROFIT, OrderRole.STOP_LOSS)

    @property
    def conditional(self) -> bool:
        """Whether the exchange keeps it as a conditional order (triggered by the price)."""
        return self.protective and self.order_type is not OrderType.LIMIT

    @classmethod
    def from_command(
        cls, command: PlaceOrder, partition: int, state: OrderState, now: datetime
    ) -> OrderRecord:
        """Return the record of a `PlaceOrder` about to be handled."""
        return cls(
            client_order_id=command.client_order_id,
            tenant_id=command.tenant_id,
            partition=partition,
            intent_id=command.intent_id,
            place_order_id=command.message_id,
            account_label=command.account_label,
            exchange_id=command.exchange_id,
            mode=command.mode,
            symbol=command.symbol,
            side=command.side,
            order_type=command.order_type,
            state=state,
            received_at=command.received_at,
            created_at=now,
            updated_at=now,
            expected_position=command.expected_position,
            reduce_only=command.reduce_only,
            leverage=command.leverage,
            take_profit=_target(command.take_profit),
            stop_loss=_target(command.stop_loss),
        )

    def moved(self, state: OrderState, now: datetime, **changes: object) -> OrderRecord:
        """Return this record in ``state`` (checked against the transition table)."""
        target = transition(self.state, state)
        return dataclasses.replace(self, state=target, updated_at=now, **changes)  # type: ignore[arg-type]


def _target(target: PriceTarget | None) -> str | None:
    return target.model_dump_json() if target is not None else None


class Rounding(Protocol):
    """The exchange's precision rules (ccxt's ``amount_to_precision``/``price_to_precision``)."""

    def amount(self, value: Decimal) -> Decimal: ...

    def price(self, value: Decimal) -> Decimal: ...


@dataclass(frozen=True, slots=True)
class MarketRules:
    """What the exchange says about a symbol; ``amount_step`` is its lot size."""

    symbol: str
    base: str
    quote: str
    min_amount: Decimal | None = None
    min_cost: Decimal | None = None
    amount_step: Decimal | None = None
