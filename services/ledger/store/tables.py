"""The ledger's tables, declared once: the projector writes them, the read API queries them.

Declared without a schema (the engine's ``search_path`` picks it). This is the schema the
migrations arrive at: the migrations keep their own DDL, frozen as they were applied (an old
migration must not change when a table changes later), and
``tests/integration/ledger/test_schema.py`` holds the migrated schema to this declaration.
A change of a table is therefore two edits: a new migration, and this declaration.

Every table but ``processed_events``, ``poison_events`` and ``projector_state`` is a tenant
table: it carries ``tenant_id`` and forces row-level security (the migrations' policies).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    Numeric,
    PrimaryKeyConstraint,
    Sequence,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()
# Rows updated by every batch keep room on their page, so an update stays on it (HOT).
UPDATED_IN_PLACE = {"fillfactor": "70"}
# Only alerts a webhook received are in the feed.
IN_FEED = text("webhook_id IS NOT NULL")
INTENTS_SEQ = Sequence("intents_seq", metadata=metadata)


def _text(name: str, *, nullable: bool = False) -> Column[str]:
    return Column(name, Text, nullable=nullable)


def _num(name: str, *, nullable: bool = False, default: str | None = None) -> Column[object]:
    return Column(name, Numeric, nullable=nullable, server_default=default)


def _time(name: str, *, nullable: bool = False) -> Column[object]:
    return Column(name, DateTime(timezone=True), nullable=nullable)


def _texts(*names: str, nullable: bool = False) -> list[Column[str]]:
    return [_text(name, nullable=nullable) for name in names]


def _sorted_id() -> Column[str]:
    # Byte order for the id that breaks ties of the page cursor: same in every locale.
    return Column("id", Text(collation="C"), nullable=False)


def _feed_index(name: str, *columns: str) -> Index:
    return Index(name, "tenant_id", *columns, postgresql_where=IN_FEED)


INTENTS = Table(
    "intents",
    metadata,
    *_texts("tenant_id", "intent_id", "status"),
    *_texts("webhook_id", "action", "symbol", nullable=True),
    _time("received_at", nullable=True),
    _time("accepted_at", nullable=True),
    *_texts("reject_reason", "reject_message", nullable=True),
    _time("rejected_at", nullable=True),
    _time("updated_at"),
    *_texts("strategy", "outcome", "reason", "pnl_currency", nullable=True),
    Column("feed_status", Text, nullable=False, server_default="received"),
    *(_num(name, default="0") for name in ("filled_amount", "filled_notional", "realized_pnl")),
    # Takes the next number on every change: a feed stream resumes after the last it sent.
    Column("seq", BigInteger, nullable=False, server_default=INTENTS_SEQ.next_value()),
    PrimaryKeyConstraint("tenant_id", "intent_id"),
    _feed_index("alerts_feed", "received_at", "intent_id"),
    *(
        _feed_index(f"alerts_by_{column}", column, "received_at", "intent_id")
        for column in ("feed_status", "symbol", "strategy")
    ),
    _feed_index("alerts_by_seq", "seq"),
)

ORDERS = Table(
    "orders",
    metadata,
    *_texts("tenant_id", "client_order_id", "intent_id", "account_label", "exchange_id"),
    *_texts("symbol", "side", "status"),
    *_texts("exchange_order_id", "order_type", nullable=True),
    _num("amount", nullable=True),
    _num("price", nullable=True),
    _num("filled_amount"),
    _num("filled_notional"),
    *_texts("reason", "reason_code", nullable=True),
    _time("created_at"),
    _time("updated_at"),
    # The alert's order, or a take-profit / stop-loss protecting its parent.
    Column("role", Text, nullable=False, server_default="order"),
    _text("parent_client_order_id", nullable=True),
    _num("trigger_price", nullable=True),
    Column("reduce_only", Boolean, nullable=False, server_default="false"),
    _num("leverage", nullable=True),
    PrimaryKeyConstraint("tenant_id", "client_order_id"),
    Index("orders_by_intent", "tenant_id", "intent_id"),
    postgresql_with=UPDATED_IN_PLACE,
)

ORDER_EVENTS = Table(
    "order_events",
    metadata,
    *_texts("message_id", "tenant_id", "intent_id", "client_order_id", "kind", "status"),
    _time("occurred_at"),
    Column("stream_seq", BigInteger, nullable=False),
    Column("detail", JSONB, nullable=False),
    PrimaryKeyConstraint("message_id"),
    Index("order_events_by_intent", "tenant_id", "intent_id"),
    # An order's history by its client order id: a cancel through the API is another intent.
    Index("order_events_by_order", "tenant_id", "client_order_id"),
)

TRADES = Table(
    "trades",
    metadata,
    _sorted_id(),
    *_texts("tenant_id", "account_label", "exchange_id", "symbol", "side"),
    *(_num(name) for name in ("price", "amount", "fee")),
    _text("fee_currency", nullable=True),
    *_texts("trade_id", "client_order_id", "exchange_order_id", "intent_id"),
    _time("filled_at"),
    _text("message_id"),
    # Recorded once per exchange trade id and account; exchanges number trades per market
    # (Binance), so the symbol is part of the identity. ``id`` (event + fill index) is unique
    # by construction and only breaks ties of the page cursor.
    PrimaryKeyConstraint(
        "tenant_id", "account_label", "exchange_id", "symbol", "trade_id", name="trades_once"
    ),
    Index("trades_by_time", "tenant_id", "filled_at", "id"),
    # A trader's most common filter; without it a rare symbol scans the whole history.
    Index("trades_by_symbol", "tenant_id", "symbol", "filled_at", "id"),
    Index("trades_by_order", "tenant_id", "client_order_id"),
)

POSITIONS = Table(
    "positions",
    metadata,
    *_texts("tenant_id", "account_label", "symbol", "exchange_id", "base"),
    _text("quote", nullable=True),
    *(_num(name) for name in ("quantity", "average_price", "realized_pnl")),
    Column("fees", JSONB, nullable=False),
    Column("fills", Integer, nullable=False),
    _time("opened_at", nullable=True),
    _time("updated_at"),
    # What was paid for what is held, exactly; the entry price is it over the quantity.
    _num("cost", default="0"),
    PrimaryKeyConstraint("tenant_id", "account_label", "symbol"),
    postgresql_with=UPDATED_IN_PLACE,
)

DAILY = Table(
    "daily_pnl",
    metadata,
    *_texts("tenant_id", "account_label"),
    Column("day", Date, nullable=False),
    _text("currency"),
    *(_num(name) for name in ("realized_pnl", "fees", "volume")),
    Column("fills", Integer, nullable=False),
    _num("funding", default="0"),
    PrimaryKeyConstraint("tenant_id", "account_label", "day", "currency"),
    postgresql_with=UPDATED_IN_PLACE,
)

MARKS = Table(
    "marks",
    metadata,
    *_texts("tenant_id", "account_label", "symbol", "exchange_id"),
    _num("quantity"),
    _num("entry_price", nullable=True),
    _num("mark_price"),
    _num("unrealized_pnl"),
    _num("liquidation_price", nullable=True),
    _time("marked_at"),
    _text("message_id"),
    PrimaryKeyConstraint("tenant_id", "account_label", "symbol"),
    postgresql_with=UPDATED_IN_PLACE,
)

FUNDING = Table(
    "funding",
    metadata,
    _sorted_id(),
    *_texts("tenant_id", "account_label", "exchange_id", "symbol"),
    _num("amount"),
    *_texts("currency", "funding_id"),
    _time("paid_at"),
    # The venue's funding id is unique per account: a payment reported twice is recorded once.
    PrimaryKeyConstraint("tenant_id", "account_label", "funding_id", name="funding_once"),
    Index("funding_by_time", "tenant_id", "paid_at", "id"),
)

STRATEGY_DAILY = Table(
    "strategy_daily",
    metadata,
    *_texts("tenant_id", "strategy"),
    Column("day", Date, nullable=False),
    _text("currency"),
    _num("realized_pnl"),
    Column("fills", Integer, nullable=False),
    PrimaryKeyConstraint("tenant_id", "strategy", "day", "currency"),
    postgresql_with=UPDATED_IN_PLACE,
)

# Currency "" holds a strategy's counts and last signal; a currency the PnL realized in it.
STRATEGY_TOTALS = Table(
    "strategy_totals",
    metadata,
    *_texts("tenant_id", "strategy", "currency"),
    *(Column(name, Integer, nullable=False) for name in ("alerts", "trades", "wins", "losses")),
    _num("realized_pnl"),
    _time("last_signal_at", nullable=True),
    PrimaryKeyConstraint("tenant_id", "strategy", "currency"),
    postgresql_with=UPDATED_IN_PLACE,
)

PROCESSED = Table(
    "processed_events",
    metadata,
    _text("message_id"),
    Column("stream_seq", BigInteger, nullable=False),
    *_texts("tenant_id", "kind"),
    PrimaryKeyConstraint("message_id"),
)

POISON = Table(
    "poison_events",
    metadata,
    Column("stream_seq", BigInteger, primary_key=True, autoincrement=False),
    *_texts("subject", "error", "payload"),
    Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

PROJECTOR_STATE = Table(
    "projector_state",
    metadata,
    _text("stream"),
    Column("last_seq", BigInteger, nullable=False),
    _time("last_occurred_at", nullable=True),
    PrimaryKeyConstraint("stream"),
)

# Tenant tables: ``tenant_id`` on every row, row-level security forced (see the migrations).
TENANT_TABLES = (
    INTENTS,
    ORDERS,
    ORDER_EVENTS,
    TRADES,
    POSITIONS,
    DAILY,
    MARKS,
    FUNDING,
    STRATEGY_DAILY,
    STRATEGY_TOTALS,
)
