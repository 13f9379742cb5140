"""How the projection's rows map onto the tables the projector writes, and back.

Each `Table` spec takes its column types and key from the one declaration
(`services.ledger.store.tables`) and its column names from the row it writes: a field the
table lacks fails at import, not at the first batch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import fields
from decimal import Decimal
from operator import attrgetter
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

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
from services.ledger.store import tables
from services.ledger.store.bulk import Table

R = TypeVar("R")
# The Postgres type each declared column travels as (`Table.rows_select` casts to it).
# BigInteger before Integer: it is a subclass.
_KINDS: tuple[tuple[type[sa.types.TypeEngine[Any]], str], ...] = (
    (JSONB, "jsonb"),
    (sa.Text, "text"),
    (sa.Numeric, "numeric"),
    (sa.DateTime, "timestamptz"),
    (sa.Date, "date"),
    (sa.Boolean, "boolean"),
    (sa.BigInteger, "bigint"),
    (sa.Integer, "integer"),
)


def _kind(column: sa.Column[Any]) -> str:
    return next(kind for cls, kind in _KINDS if isinstance(column.type, cls))


def _spec(
    table: sa.Table,
    names: tuple[str, ...],
    values: Callable[[R], tuple[object, ...]],
    key: tuple[str, ...] | None = None,
) -> Table[R]:
    """Return the spec writing ``names`` of ``table``; its key is the primary key unless
    another unique one is given."""
    primary = tuple(column.name for column in table.primary_key.columns)
    columns = tuple((name, _kind(table.c[name])) for name in names)
    return Table(table.name, columns, key or primary, values)


def _of(table: sa.Table, cls: type[R], key: tuple[str, ...] | None = None) -> Table[R]:
    """Return the spec writing every field of the row dataclass ``cls``, in declaration order."""
    names = tuple(f.name for f in fields(cls))  # type: ignore[arg-type]
    values: Callable[[R], tuple[object, ...]] = attrgetter(*names)
    return _spec(table, names, values, key)


def _fees(fees: Mapping[str, Decimal]) -> dict[str, str]:
    # Decimals as strings: a JSON number would go through a float on some readers.
    return {currency: format(fees[currency], "f") for currency in sorted(fees)}


PROCESSED: Table[Sequenced] = _spec(
    tables.PROCESSED,
    ("message_id", "stream_seq", "tenant_id", "kind"),
    lambda s: (s.event.message_id, s.seq, s.event.tenant_id, s.event.kind),
)
POISON: Table[Poison] = _spec(
    tables.POISON,
    ("stream_seq", "subject", "error", "payload"),
    lambda p: (p.seq, p.subject, p.error, p.payload),
)
INTENTS = _of(tables.INTENTS, IntentRow)
STRATEGY_DAILY = _of(tables.STRATEGY_DAILY, StrategyDelta)
STRATEGY_TOTALS = _of(tables.STRATEGY_TOTALS, StrategyTally)
ORDERS = _of(tables.ORDERS, OrderRow)
ORDER_EVENTS = _of(tables.ORDER_EVENTS, OrderEventRow)
# Keyed by the row id (event + fill index) the inserts return; recorded once by `trades_once`.
TRADES = _of(tables.TRADES, TradeRow, key=("id",))
MARKS = _of(tables.MARKS, MarkRow)
FUNDING = _of(tables.FUNDING, FundingRow)
DAILY = _of(tables.DAILY, DailyDelta)
POSITIONS: Table[PositionRow] = _spec(
    tables.POSITIONS,
    tuple(column.name for column in tables.POSITIONS.c),
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
