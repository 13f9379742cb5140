"""The executor's tables, declared once (they live in the engine's schema; the migrations
create them), and how a record becomes a row and back.

The tables are under Row-Level Security (migration 0002). The engine's connections act as
the writer role from the start (`connect_as`), whose policies let the order path see every
order and every account. A tenant's request switches to the API role inside its own
transaction (`services.executor.accounts.store.AccountStore.as_tenant`), and Postgres then
shows and lets it change that tenant's accounts only, whatever the SQL says. The order path's
I/O is `services.executor.orders.store`.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

from libs.common.fsm import OrderState
from libs.common.messages import AccountMode, OrderRole, OrderType, Side
from libs.common.records import AccountStatus, MarketType
from services.executor.domain import Protection

metadata = sa.MetaData()
TIMESTAMP = sa.DateTime(timezone=True)

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("tenant_id", sa.Text, primary_key=True),
    sa.Column("label", sa.Text, primary_key=True),
    sa.Column("exchange_id", sa.Text),
    sa.Column("mode", sa.Text),
    sa.Column("market_type", sa.Text),
    sa.Column("status", sa.Text),
    sa.Column("status_message", sa.Text),
    sa.Column("validated_at", TIMESTAMP),
    sa.Column("keys_updated_at", TIMESTAMP),
    sa.Column("created_at", TIMESTAMP),
    sa.Column("updated_at", TIMESTAMP),
)

orders = sa.Table(
    "orders",
    metadata,
    sa.Column("client_order_id", sa.Text, primary_key=True),
    *(sa.Column(n, sa.Text) for n in ("tenant_id", "intent_id", "place_order_id")),
    sa.Column("partition", sa.Integer),
    *(sa.Column(n, sa.Text) for n in ("account_label", "exchange_id", "mode", "symbol")),
    *(sa.Column(n, sa.Text) for n in ("side", "order_type", "state", "exchange_order_id")),
    *(sa.Column(n, sa.Numeric) for n in ("amount", "price", "filled")),
    sa.Column("reported_trades", ARRAY(sa.Text)),
    sa.Column("sent_at", TIMESTAMP),
    sa.Column("reason", sa.Text),
    sa.Column("reason_code", sa.Text),
    sa.Column("failure_reported", sa.Boolean),
    sa.Column("version", sa.Integer),
    *(sa.Column(n, TIMESTAMP) for n in ("received_at", "created_at", "updated_at")),
    *(sa.Column(n, sa.Numeric) for n in ("expected_position", "position_before", "written_off")),
    sa.Column("healed", sa.Boolean),
    sa.Column("note", sa.Text),
    sa.Column("role", sa.Text),
    sa.Column("parent_client_order_id", sa.Text),
    sa.Column("reduce_only", sa.Boolean),
    *(sa.Column(n, sa.Numeric) for n in ("trigger_price", "leverage", "average_price")),
    *(sa.Column(n, sa.Text) for n in ("take_profit", "stop_loss", "protection")),
)

positions = sa.Table(
    "positions",
    metadata,
    *(sa.Column(n, sa.Text, primary_key=True) for n in ("tenant_id", "account_label", "symbol")),
    sa.Column("quantity", sa.Numeric),
    sa.Column("coin_fees", sa.Numeric),
    sa.Column("updated_at", TIMESTAMP),
)


_ENUMS: dict[str, Any] = {
    "mode": AccountMode,
    "market_type": MarketType,
    "status": AccountStatus,
    "side": Side,
    "order_type": OrderType,
    "state": OrderState,
    "role": OrderRole,
    "protection": Protection,
}


def to_row(row: object) -> dict[str, Any]:
    """Return a record's column values (enums as their values)."""
    # Shallow on purpose: `dataclasses.asdict` deep-copies every value, a measurable share of
    # an order's CPU; the values here are immutable anyway.
    out = {f.name: getattr(row, f.name) for f in dataclasses.fields(row)}  # type: ignore[arg-type]
    for key in _ENUMS.keys() & out.keys():
        if out[key] is not None:
            out[key] = out[key].value
    if "reported_trades" in out:
        out["reported_trades"] = list(out["reported_trades"])
    return out


def from_row(mapping: Any) -> dict[str, Any]:
    """Return a row's values as a record's fields (enums typed again)."""
    out = {k: (_ENUMS[k](v) if k in _ENUMS and v is not None else v) for k, v in mapping.items()}
    if "reported_trades" in out:
        out["reported_trades"] = tuple(out["reported_trades"] or ())
    return out


def json_value(value: object) -> str:
    """Return a column value as JSON holds it (``json.dumps``'s ``default``)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not a column value")
