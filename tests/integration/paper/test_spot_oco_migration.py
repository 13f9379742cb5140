"""A state file written before stop orders and OCO lists (schema 2) opens with its orders."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

from services.paper.models import OrderRef, OrderStatus, OrderType
from services.paper.store.database import SCHEMA_VERSION, Store

ORDERS_V2 = """
CREATE TABLE orders (
    order_id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL,
    symbol TEXT NOT NULL,
    client_order_id TEXT NOT NULL,
    side TEXT NOT NULL,
    type TEXT NOT NULL,
    time_in_force TEXT NOT NULL,
    price TEXT NOT NULL,
    orig_qty TEXT NOT NULL,
    orig_quote_qty TEXT NOT NULL,
    executed_qty TEXT NOT NULL,
    cumm_quote_qty TEXT NOT NULL,
    status TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    UNIQUE (account_id, client_order_id)
);
INSERT INTO orders VALUES
    (7, 1, 'BTCUSDT', 'old-1', 'BUY', 'LIMIT', 'GTC', '50000', '0.01', '0', '0', '0', 'NEW', 1, 1);
PRAGMA user_version = 2;
"""


async def test_a_schema_2_file_gains_the_new_columns_and_keeps_its_orders(tmp_path: Path) -> None:
    path = tmp_path / "paper.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.executescript(ORDERS_V2)
    store = await Store.open(path)
    try:
        order = await store.order(1, "BTCUSDT", OrderRef(client_order_id="old-1"))
        assert order is not None
        assert (order.type, order.status, order.price) == (
            OrderType.LIMIT,
            OrderStatus.NEW,
            Decimal(50000),
        )
        assert (order.stop_price, order.order_list_id, order.working) == (Decimal(0), -1, True)
        assert await store.open_order_lists(1) == []
    finally:
        await store.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    reopened = await Store.open(path)  # a second start changes nothing
    await reopened.close()
