"""The projection tables as the projector writes them, and rows read back for a batch."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import fields
from decimal import Decimal
from operator import attrgetter
from typing import Any

from libs.common.fsm import OrderState
from services.ledger.domain.positions import Market, Position
from services.ledger.domain.rows import (
    DailyDelta,
    FundingRow,
    IntentRow,
    MarkRow,
    OrderEventRow,
    OrderRow,
    Poison,
    PositionRow,
    Sequenced,
    StrategyDelta,
    StrategyTally,
    TradeRow,
)
from services.ledger.store.bulk import Table

TEXT, NUM, TIME, BOOL = "text", "numeric", "timestamptz", "boolean"


def _columns(
    cls: type, numeric: frozenset[str] = frozenset(), booleans: frozenset[str] = frozenset()
) -> tuple[tuple[str, str], ...]:
    """Map a row dataclass's fields to columns: ``*_at`` are times, ``numeric`` are decimals,
    ``booleans`` booleans, the rest text."""
    return tuple((f.name, _kind(f.name, numeric, booleans)) for f in fields(cls))


def _kind(name: str, numeric: frozenset[str], booleans: frozenset[str]) -> str:
    if name in numeric:
        return NUM
    if name in booleans:
        return BOOL
    return TIME if name.endswith("_at") else TEXT


def _attributes(cls: type) -> Callable[[Any], tuple[object, ...]]:
    """Return a function giving a row's fields as a tuple, in declaration order."""
    values: Callable[[Any], tuple[object, ...]] = attrgetter(*(f.name for f in fields(cls)))
    return values


def _fees(fees: Mapping[str, Decimal]) -> dict[str, str]:
    # Decimals as strings: a JSON number would go through a float on some readers.
    return {currency: format(fees[currency], "f") for currency in sorted(fees)}


PROCESSED: Table[Sequenced] = Table(
    "processed_events",
    (("message_id", TEXT), ("stream_seq", "bigint"), ("tenant_id", TEXT), ("kind", TEXT)),
    ("message_id",),
    lambda s: (s.event.message_id, s.seq, s.event.tenant_id, s.event.kind),
)

POISON: Table[Poison] = Table(
    "poison_events",
    (("stream_seq", "bigint"), ("subject", TEXT), ("error", TEXT), ("payload", TEXT)),
    ("stream_seq",),
    lambda p: (p.seq, p.subject, p.error, p.payload),
)

INTENTS: Table[IntentRow] = Table(
    "intents",
    _columns(IntentRow, frozenset({"filled_amount", "filled_notional", "realized_pnl"})),
    ("tenant_id", "intent_id"),
    _attributes(IntentRow),
)

STRATEGY_DAILY: Table[StrategyDelta] = Table(
    "strategy_daily",
    (
        ("tenant_id", TEXT),
        ("strategy", TEXT),
        ("day", "date"),
        ("currency", TEXT),
        ("realized_pnl", NUM),
        ("fills", "integer"),
    ),
    ("tenant_id", "strategy", "day", "currency"),
    _attributes(StrategyDelta),
)

STRATEGY_TOTALS: Table[StrategyTally] = Table(
    "strategy_totals",
    (
        ("tenant_id", TEXT),
        ("strategy", TEXT),
        ("currency", TEXT),
        ("alerts", "integer"),
        ("trades", "integer"),
        ("wins", "integer"),
        ("losses", "integer"),
        ("realized_pnl", NUM),
        ("last_signal_at", TIME),
    ),
    ("tenant_id", "strategy", "currency"),
    _attributes(StrategyTally),
)

_ORDER_NUMERIC = frozenset(
    {"filled_amount", "filled_notional", "amount", "price", "trigger_price", "leverage"}
)
ORDERS: Table[OrderRow] = Table(
    "orders",
    _columns(OrderRow, _ORDER_NUMERIC, frozenset({"reduce_only"})),
    ("tenant_id", "client_order_id"),
    _attributes(OrderRow),
)

ORDER_EVENTS: Table[OrderEventRow] = Table(
    "order_events",
    (
        ("message_id", TEXT),
        ("tenant_id", TEXT),
        ("intent_id", TEXT),
        ("client_order_id", TEXT),
        ("kind", TEXT),
        ("status", TEXT),
        ("occurred_at", TIME),
        ("stream_seq", "bigint"),
        ("detail", "jsonb"),
    ),
    ("message_id",),
    lambda r: (
        r.message_id,
        r.tenant_id,
        r.intent_id,
        r.client_order_id,
        r.kind,
        r.status,
        r.occurred_at,
        r.stream_seq,
        r.detail,
    ),
)

_TRADE_NUMERIC = frozenset({"price", "amount", "fee"})
TRADES: Table[TradeRow] = Table(
    "trades", _columns(TradeRow, _TRADE_NUMERIC), ("id",), _attributes(TradeRow)
)

POSITIONS: Table[PositionRow] = Table(
    "positions",
    (
        ("tenant_id", TEXT),
        ("account_label", TEXT),
        ("symbol", TEXT),
        ("exchange_id", TEXT),
        ("base", TEXT),
        ("quote", TEXT),
        ("quantity", NUM),
        ("average_price", NUM),
        ("realized_pnl", NUM),
        ("fees", "jsonb"),
        ("fills", "integer"),
        ("opened_at", TIME),
        ("updated_at", TIME),
        ("cost", NUM),
    ),
    ("tenant_id", "account_label", "symbol"),
    lambda r: (
        r.tenant_id,
        r.account_label,
        r.symbol,
        r.exchange_id,
        r.market.base,
        r.market.quote,
        r.position.quantity,
        r.position.average_price,
        r.position.realized_pnl,
        _fees(r.position.fees),
        r.fills,
        r.position.opened_at,
        r.position.updated_at,
        r.position.cost,
    ),
)

DAILY: Table[DailyDelta] = Table(
    "daily_pnl",
    (
        ("tenant_id", TEXT),
        ("account_label", TEXT),
        ("day", "date"),
        ("currency", TEXT),
        ("realized_pnl", NUM),
        ("fees", NUM),
        ("volume", NUM),
        ("fills", "integer"),
        ("funding", NUM),
    ),
    ("tenant_id", "account_label", "day", "currency"),
    lambda d: (
        d.tenant_id,
        d.account_label,
        d.day,
        d.currency,
        d.realized_pnl,
        d.fees,
        d.volume,
        d.fills,
        d.funding,
    ),
)

_MARK_NUMERIC = frozenset(
    {"quantity", "entry_price", "mark_price", "unrealized_pnl", "liquidation_price"}
)
MARKS: Table[MarkRow] = Table(
    "marks",
    _columns(MarkRow, _MARK_NUMERIC),
    ("tenant_id", "account_label", "symbol"),
    _attributes(MarkRow),
)

FUNDING: Table[FundingRow] = Table(
    "funding",
    _columns(FundingRow, frozenset({"amount"})),
    ("tenant_id", "account_label", "funding_id"),
    _attributes(FundingRow),
)


def intent_from(row: Mapping[Any, Any]) -> IntentRow:
    """Rebuild an `IntentRow` from its table row."""
    return IntentRow(**dict(row))


def order_from(row: Mapping[Any, Any]) -> OrderRow:
    """Rebuild an `OrderRow` from its table row."""
    return OrderRow(**{**dict(row), "status": OrderState(row["status"])})


def position_from(row: Mapping[Any, Any]) -> PositionRow:
    """Rebuild a `PositionRow` from its table row."""
    position = Position(
        quantity=row["quantity"],
        average_price=row["average_price"],
        realized_pnl=row["realized_pnl"],
        fees={currency: Decimal(amount) for currency, amount in row["fees"].items()},
        opened_at=row["opened_at"],
        updated_at=row["updated_at"],
        cost=row["cost"],
    )
    return PositionRow(
        tenant_id=row["tenant_id"],
        account_label=row["account_label"],
        symbol=row["symbol"],
        exchange_id=row["exchange_id"],
        market=Market(base=row["base"], quote=row["quote"]),
        position=position,
        fills=row["fills"],
    )
