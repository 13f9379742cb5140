"""What one write transaction of the store can do; only `Store.write` hands one out.

The writer is a plain `sqlite3` connection used on the event loop: each statement takes
microseconds (WAL, ``synchronous=NORMAL``: a commit writes the log without an fsync, and
checkpoints run on another connection, off the loop), far less than a hop to a worker thread
and back per statement. The methods stay ``async`` so callers do not depend on that.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import replace
from decimal import Decimal

from services.paper import errors
from services.paper.models import Balance, Order, OrderList, OrderRef, Trade
from services.paper.store import rows
from services.paper.store.futures import ACCOUNT_TABLES, FuturesTx


class Tx:
    """Reads and writes inside one ``BEGIN IMMEDIATE`` transaction."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self.futures = FuturesTx(conn)
        """The futures tables, in this same transaction."""

    async def create_account(self, label: str, key_digest: str, secret: str, now_ms: int) -> int:
        """Insert an account and return its id."""
        cursor = self._conn.execute(
            "INSERT INTO accounts (label, key_digest, secret, created_ms) VALUES (?, ?, ?, ?)",
            (label, key_digest, secret, now_ms),
        )
        account_id = cursor.lastrowid
        if account_id is None:  # pragma: no cover - SQLite always sets it after an INSERT
            raise RuntimeError("SQLite did not return the new account's id")
        return account_id

    async def delete_account(self, account_id: int) -> bool:
        """Delete an account and everything it holds; False when there is no such account."""
        for table in ("trades", "orders", "order_lists", "balances", *ACCOUNT_TABLES):
            self._conn.execute(
                f"DELETE FROM {table} WHERE account_id = ?",  # noqa: S608 - fixed names
                (account_id,),
            )
        cursor = self._conn.execute("DELETE FROM accounts WHERE account_id = ?", (account_id,))
        return cursor.rowcount > 0

    async def wallet(self, account_id: int, assets: Iterable[str]) -> dict[str, Balance]:
        """Return the account's balances of ``assets`` (absent ones are left out)."""
        wanted = list(assets)
        marks = ", ".join("?" for _ in wanted)
        found = self._conn.execute(
            "SELECT asset, free, locked FROM balances "  # noqa: S608 - placeholders only
            f"WHERE account_id = ? AND asset IN ({marks})",
            (account_id, *wanted),
        ).fetchall()
        return {row[0]: rows.balance(row) for row in found}

    async def put_balances(self, account_id: int, balances: Iterable[Balance]) -> None:
        """Write ``balances`` (inserting assets the account did not hold yet)."""
        self._conn.executemany(
            "INSERT INTO balances (account_id, asset, free, locked) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (account_id, asset) DO UPDATE "
            "SET free = excluded.free, locked = excluded.locked",
            [(account_id, b.asset, str(b.free), str(b.locked)) for b in balances],
        )

    async def client_id_taken(self, account_id: int, client_order_id: str) -> bool:
        """Tell whether the account has ever used ``client_order_id``."""
        found = self._conn.execute(
            "SELECT 1 FROM orders WHERE account_id = ? AND client_order_id = ?",
            (account_id, client_order_id),
        ).fetchone()
        return found is not None

    async def insert_order(self, order: Order) -> Order:
        """Insert ``order`` and return it with its exchange id; Binance's duplicate error if
        the account used its client order id before."""
        try:
            cursor = self._conn.execute(rows.ORDER_INSERT, rows.order_values(order))
        except sqlite3.IntegrityError:
            raise errors.duplicate_order() from None
        return replace(order, order_id=cursor.lastrowid or 0)

    async def update_order(self, order: Order) -> None:
        """Write an order's new status, executed amounts and update time."""
        self._conn.execute(
            "UPDATE orders SET status = ?, executed_qty = ?, cumm_quote_qty = ?, updated_ms = ?, "
            "working = ? WHERE order_id = ?",
            (
                order.status.value,
                str(order.executed_qty),
                str(order.cumm_quote_qty),
                order.updated_ms,
                int(order.working),
                order.order_id,
            ),
        )

    async def list_client_id_taken(self, account_id: int, list_client_order_id: str) -> bool:
        """Tell whether the account has ever used ``list_client_order_id`` for an order list."""
        found = self._conn.execute(
            "SELECT 1 FROM order_lists WHERE account_id = ? AND list_client_order_id = ?",
            (account_id, list_client_order_id),
        ).fetchone()
        return found is not None

    async def insert_order_list(self, order_list: OrderList) -> OrderList:
        """Insert an order list and return it with its exchange id."""
        try:
            cursor = self._conn.execute(rows.LIST_INSERT, rows.order_list_values(order_list))
        except sqlite3.IntegrityError:
            raise errors.duplicate_order() from None
        return replace(order_list, order_list_id=cursor.lastrowid or 0)

    async def update_order_list(self, order_list: OrderList) -> None:
        """Write an order list's new status and update time."""
        self._conn.execute(
            "UPDATE order_lists SET status = ?, updated_ms = ? WHERE order_list_id = ?",
            (order_list.status.value, order_list.updated_ms, order_list.order_list_id),
        )

    async def order_list(
        self, account_id: int, list_id: int | None, client_id: str | None
    ) -> OrderList | None:
        """Return an account's order list as this transaction sees it."""
        query, args = rows.list_query(account_id, list_id, client_id)
        found = self._conn.execute(query, args).fetchone()
        return rows.order_list(found) if found else None

    async def legs(self, order_list_id: int) -> list[Order]:
        """Return the orders of an order list, by exchange id."""
        found = self._conn.execute(rows.LEGS_QUERY, (order_list_id,)).fetchall()
        return [rows.order(row) for row in found]

    async def insert_trade(self, trade: Trade) -> Trade:
        """Insert ``trade`` and return it with its exchange trade id."""
        cursor = self._conn.execute(rows.TRADE_INSERT, rows.trade_values(trade))
        return replace(trade, trade_id=cursor.lastrowid or 0)

    async def order(self, account_id: int, symbol: str, ref: OrderRef) -> Order | None:
        """Return an order as this transaction sees it."""
        query, args = rows.order_query(account_id, symbol, ref)
        return rows.first_order(self._conn.execute(query, args).fetchall())

    async def order_by_id(self, order_id: int) -> Order | None:
        """Return any account's order by its exchange id (the matcher's re-check)."""
        found = self._conn.execute(f"{rows.ORDER_SELECT} WHERE order_id = ?", (order_id,))
        return rows.first_order(found.fetchall())

    async def pin_prices(self, prices: Mapping[str, Decimal]) -> None:
        """Persist pinned prices, so a restart keeps them."""
        self._conn.executemany(
            "INSERT INTO pinned_prices (symbol, price) VALUES (?, ?) "
            "ON CONFLICT (symbol) DO UPDATE SET price = excluded.price",
            [(symbol, str(price)) for symbol, price in prices.items()],
        )

    async def unpin_all(self) -> None:
        """Forget every pinned price."""
        self._conn.execute("DELETE FROM pinned_prices")
