"""The paper exchange's state in one SQLite file (WAL), so it survives a restart or a SIGKILL.

Two connections: one reads (WAL readers never wait for the writer), one writes. Every mutation
runs in `Store.write`, one transaction at a time in this process (an asyncio lock) and across
processes sharing the file (``BEGIN IMMEDIATE`` takes SQLite's write lock before reading), so
an order reads the balances it changes inside the transaction that changes them: concurrent
orders of one account can never lose an update. Amounts are stored as decimal strings.

The writer runs on the event loop (see `transaction`): with ``synchronous=NORMAL`` a commit
appends to the WAL file without an fsync, so a committed order survives a SIGKILL of the
process (the OS holds the write) but not a power loss. The fsyncs of checkpoints happen on
the reader's worker thread (`Store.checkpoint`, every second), never on the loop.

The exchange needs each API secret in clear to check HMAC signatures, so the file holds them
(created ``0600``); API keys themselves are stored only as SHA-256 digests.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiosqlite

from services.paper.models import Balance, Order, OrderList, OrderRef, Trade
from services.paper.store import rows
from services.paper.store.futures import SCHEMA as FUTURES_SCHEMA
from services.paper.store.transaction import Tx

SCHEMA_VERSION = 3  # 2: the futures tables; 3: stop orders and OCO lists
_SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    account_id INTEGER PRIMARY KEY AUTOINCREMENT,
    label TEXT NOT NULL,
    key_digest TEXT NOT NULL UNIQUE,
    secret TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS balances (
    account_id INTEGER NOT NULL,
    asset TEXT NOT NULL,
    free TEXT NOT NULL,
    locked TEXT NOT NULL,
    PRIMARY KEY (account_id, asset)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS orders (
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
CREATE INDEX IF NOT EXISTS orders_open ON orders (status) WHERE status = 'NEW';
CREATE INDEX IF NOT EXISTS orders_by_symbol ON orders (account_id, symbol, order_id);
CREATE TABLE IF NOT EXISTS trades (
    trade_id INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id INTEGER NOT NULL,
    account_id INTEGER NOT NULL,
    symbol TEXT NOT NULL,
    side TEXT NOT NULL,
    price TEXT NOT NULL,
    qty TEXT NOT NULL,
    quote_qty TEXT NOT NULL,
    commission TEXT NOT NULL,
    commission_asset TEXT NOT NULL,
    is_maker INTEGER NOT NULL,
    time_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS trades_by_symbol ON trades (account_id, symbol, trade_id);
CREATE TABLE IF NOT EXISTS pinned_prices (symbol TEXT PRIMARY KEY, price TEXT NOT NULL);
"""
# Columns added to ``orders`` by version 3; a file of an older version gains them at start.
_ORDER_COLUMNS_V3 = (
    ("stop_price", "TEXT NOT NULL DEFAULT '0'"),
    ("order_list_id", "INTEGER NOT NULL DEFAULT -1"),
    ("working", "INTEGER NOT NULL DEFAULT 1"),
)
_SCHEMA_V3 = """
CREATE INDEX IF NOT EXISTS orders_by_list ON orders (order_list_id) WHERE order_list_id >= 0;
CREATE TABLE IF NOT EXISTS order_lists (
    order_list_id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL,
    symbol TEXT NOT NULL,
    list_client_order_id TEXT NOT NULL,
    status TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    UNIQUE (account_id, list_client_order_id)
);
"""


def _migrate(writer: sqlite3.Connection) -> None:
    """Bring the tables of an older file up to `SCHEMA_VERSION` (idempotent)."""
    present = {row[1] for row in writer.execute("PRAGMA table_info(orders)")}
    for name, declaration in _ORDER_COLUMNS_V3:
        if name not in present:
            writer.execute(f"ALTER TABLE orders ADD COLUMN {name} {declaration}")
    writer.executescript(_SCHEMA_V3)


@dataclass(frozen=True, slots=True)
class Credentials:
    """What checking a signed request needs to know about an API key."""

    account_id: int
    secret: str
    disabled: bool


@dataclass(frozen=True, slots=True)
class TradeQuery:
    """Filters of ``GET /api/v3/myTrades``."""

    symbol: str
    order_id: int | None = None
    from_id: int | None = None
    start_ms: int | None = None
    end_ms: int | None = None
    limit: int = 500


def _create_private(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


_PRAGMAS = ("busy_timeout = 10000", "journal_mode = WAL", "synchronous = NORMAL")
CHECKPOINT_INTERVAL_S = 1.0


async def _connect(path: Path) -> aiosqlite.Connection:
    conn = await aiosqlite.connect(path, isolation_level=None)
    for pragma in _PRAGMAS:
        await conn.execute(f"PRAGMA {pragma}")
    return conn


def _connect_writer(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    for pragma in _PRAGMAS:
        conn.execute(f"PRAGMA {pragma}")
    conn.execute("PRAGMA wal_autocheckpoint = 0")  # `Store.checkpoint` does it, off the loop
    return conn


class Store:
    """The SQLite file; open it with `Store.open`, close it with `close`."""

    def __init__(self, reader: aiosqlite.Connection, writer: sqlite3.Connection) -> None:
        self._reader = reader
        self._writer = writer
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path) -> Store:
        """Open (creating if needed) the state file at ``path`` and its schema."""
        await asyncio.to_thread(_create_private, path)
        writer = _connect_writer(path)
        writer.executescript(_SCHEMA)
        _migrate(writer)
        writer.executescript(FUTURES_SCHEMA)
        writer.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        return cls(await _connect(path), writer)

    async def close(self) -> None:
        """Close both connections."""
        await self._reader.close()
        self._writer.close()

    async def checkpoint(self) -> None:
        """Copy committed pages from the WAL into the database file (on the reader's thread)."""
        await self._reader.execute("PRAGMA wal_checkpoint(PASSIVE)")

    async def keep_checkpointing(self, interval_s: float = CHECKPOINT_INTERVAL_S) -> None:
        """Checkpoint every ``interval_s`` until cancelled, so the WAL file stays small."""
        while True:
            await asyncio.sleep(interval_s)
            with contextlib.suppress(sqlite3.Error):  # busy: the next round does it
                await self.checkpoint()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[Tx]:
        """Run a block as one write transaction: committed on success, rolled back on error."""
        async with self._lock:
            self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield Tx(self._writer)
                self._writer.execute("COMMIT")
            except BaseException:
                # A failed COMMIT leaves the transaction open; never leave it to the next one.
                if self._writer.in_transaction:
                    self._writer.execute("ROLLBACK")
                raise

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Tx]:
        """Run a block of reads on one snapshot of the writer connection (no write lock)."""
        async with self._lock:
            self._writer.execute("BEGIN")
            try:
                yield Tx(self._writer)
            finally:
                if self._writer.in_transaction:
                    self._writer.execute("ROLLBACK")

    async def check(self) -> None:
        """Raise unless the file answers a query (the readiness check)."""
        await self._reader.execute_fetchall("SELECT 1")

    async def credentials(self, key_digest: str) -> Credentials | None:
        """Return the account and secret of an API key's digest, None if unknown."""
        found = await self._reader.execute_fetchall(
            "SELECT account_id, secret, disabled FROM accounts WHERE key_digest = ?",
            (key_digest,),
        )
        for account_id, secret, disabled in found:
            return Credentials(account_id, secret, bool(disabled))
        return None

    async def account_exists(self, account_id: int) -> bool:
        """Tell whether ``account_id`` exists and its key works (state files written before
        accounts were deleted for real may hold disabled ones: those count as gone).
        """
        found = await self._reader.execute_fetchall(
            "SELECT 1 FROM accounts WHERE account_id = ? AND disabled = 0", (account_id,)
        )
        return bool(found)

    async def balances(self, account_id: int) -> list[Balance]:
        """Return every balance of an account, by asset name."""
        found = await self._reader.execute_fetchall(
            "SELECT asset, free, locked FROM balances WHERE account_id = ? ORDER BY asset",
            (account_id,),
        )
        return [rows.balance(row) for row in found]

    async def order(self, account_id: int, symbol: str, ref: OrderRef) -> Order | None:
        """Return one order of an account in ``symbol``, by exchange id or client id."""
        return await rows.find_order(self._reader, account_id, symbol, ref)

    async def orders(
        self, account_id: int, symbol: str | None, *, open_only: bool, limit: int = 500
    ) -> list[Order]:
        """Return an account's orders (in one symbol, or all), oldest first."""
        where = "account_id = ?" + (" AND status = 'NEW'" if open_only else "")
        args: list[object] = [account_id]
        if symbol is not None:
            where += " AND symbol = ?"
            args.append(symbol)
        found = await self._reader.execute_fetchall(
            f"SELECT * FROM ({rows.ORDER_SELECT} WHERE {where} "  # noqa: S608 - fixed fragments
            "ORDER BY order_id DESC LIMIT ?) ORDER BY order_id",
            (*args, limit),
        )
        return [rows.order(row) for row in found]

    async def resting_orders(self) -> list[Order]:
        """Return every open limit order of every account (the matcher's work list)."""
        found = await self._reader.execute_fetchall(
            f"{rows.ORDER_SELECT} WHERE status = 'NEW' ORDER BY order_id"
        )
        return [rows.order(row) for row in found]

    async def order_list(
        self, account_id: int, list_id: int | None, client_id: str | None
    ) -> tuple[OrderList, list[Order]] | None:
        """Return an account's order list, by exchange id and/or client id, with its legs."""
        query, args = rows.list_query(account_id, list_id, client_id)
        found = list(await self._reader.execute_fetchall(query, args))
        if not found:
            return None
        head = rows.order_list(found[0])
        legs = await self._reader.execute_fetchall(rows.LEGS_QUERY, (head.order_list_id,))
        return head, [rows.order(row) for row in legs]

    async def open_order_lists(self, account_id: int) -> list[tuple[OrderList, list[Order]]]:
        """Return an account's executing order lists with their legs, oldest first."""
        query, args = rows.list_query(account_id, None, None)
        found = await self._reader.execute_fetchall(
            f"{query} AND status = 'EXECUTING' ORDER BY order_list_id", args
        )
        lists = []
        for row in found:
            head = rows.order_list(row)
            legs = await self._reader.execute_fetchall(rows.LEGS_QUERY, (head.order_list_id,))
            lists.append((head, [rows.order(leg) for leg in legs]))
        return lists

    async def trades(self, account_id: int, query: TradeQuery) -> list[Trade]:
        """Return an account's trades in one symbol, oldest first, filtered like Binance."""
        where, args = "account_id = ? AND symbol = ?", [account_id, query.symbol]
        for clause, value in (
            ("order_id = ?", query.order_id),
            ("trade_id >= ?", query.from_id),
            ("time_ms >= ?", query.start_ms),
            ("time_ms <= ?", query.end_ms),
        ):
            if value is not None:
                where += f" AND {clause}"
                args.append(value)
        # Like Binance: from an id or a start time upwards, else the most recent ones.
        newest_first = query.from_id is None and query.start_ms is None
        order = "DESC" if newest_first else "ASC"
        found = await self._reader.execute_fetchall(
            f"SELECT * FROM ({rows.TRADE_SELECT} WHERE {where} "  # noqa: S608 - fixed fragments
            f"ORDER BY trade_id {order} LIMIT ?) ORDER BY trade_id",
            (*args, query.limit),
        )
        return [rows.trade(row) for row in found]

    async def pinned_prices(self) -> dict[str, str]:
        """Return the prices pinned through the admin API, as stored."""
        found = await self._reader.execute_fetchall("SELECT symbol, price FROM pinned_prices")
        return {str(symbol): str(price) for symbol, price in found}
