"""The futures tables of the state file, and what one transaction does with them.

Rows map to the frozen dataclasses of `models` column for field (same names, same order):
decimals as strings, booleans as integers, enums as their values. Every read and write runs
on the store's writer connection inside `Store.write` (changes) or `Store.read` (a snapshot).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import astuple, fields, replace
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar, get_type_hints

from services.paper import errors
from services.paper.futures.models import (
    AlgoOrder,
    AlgoStatus,
    FuturesOrder,
    FuturesStatus,
    FuturesTrade,
    Income,
    IncomeType,
    Position,
)
from services.paper.models import ZERO

SCHEMA = """
CREATE TABLE IF NOT EXISTS futures_wallets (
    account_id INTEGER PRIMARY KEY,
    balance TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS futures_positions (
    account_id INTEGER NOT NULL,
    symbol TEXT NOT NULL,
    amount TEXT NOT NULL,
    entry_price TEXT NOT NULL,
    isolated_margin TEXT NOT NULL,
    leverage INTEGER NOT NULL,
    margin_type TEXT NOT NULL,
    updated_ms INTEGER NOT NULL,
    PRIMARY KEY (account_id, symbol)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS futures_orders (
    order_id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL,
    symbol TEXT NOT NULL,
    client_order_id TEXT NOT NULL,
    side TEXT NOT NULL,
    type TEXT NOT NULL,
    time_in_force TEXT NOT NULL,
    price TEXT NOT NULL,
    orig_qty TEXT NOT NULL,
    executed_qty TEXT NOT NULL,
    cum_quote TEXT NOT NULL,
    status TEXT NOT NULL,
    reduce_only INTEGER NOT NULL,
    close_position INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    UNIQUE (account_id, client_order_id)
);
CREATE INDEX IF NOT EXISTS futures_orders_open ON futures_orders (status) WHERE status = 'NEW';
CREATE TABLE IF NOT EXISTS futures_trades (
    trade_id INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id INTEGER NOT NULL,
    account_id INTEGER NOT NULL,
    symbol TEXT NOT NULL,
    side TEXT NOT NULL,
    price TEXT NOT NULL,
    qty TEXT NOT NULL,
    quote_qty TEXT NOT NULL,
    commission TEXT NOT NULL,
    realized_pnl TEXT NOT NULL,
    is_maker INTEGER NOT NULL,
    time_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS futures_trades_by_symbol
    ON futures_trades (account_id, symbol, trade_id);
CREATE TABLE IF NOT EXISTS algo_orders (
    algo_id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL,
    symbol TEXT NOT NULL,
    client_algo_id TEXT NOT NULL,
    side TEXT NOT NULL,
    type TEXT NOT NULL,
    quantity TEXT NOT NULL,
    trigger_price TEXT NOT NULL,
    price TEXT NOT NULL,
    time_in_force TEXT NOT NULL,
    reduce_only INTEGER NOT NULL,
    close_position INTEGER NOT NULL,
    callback_rate TEXT NOT NULL,
    activate_price TEXT NOT NULL,
    best_price TEXT NOT NULL,
    status TEXT NOT NULL,
    actual_order_id INTEGER NOT NULL,
    executed_qty TEXT NOT NULL,
    avg_price TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    trigger_ms INTEGER NOT NULL,
    UNIQUE (account_id, client_algo_id)
);
CREATE INDEX IF NOT EXISTS algo_orders_open ON algo_orders (status) WHERE status = 'NEW';
CREATE TABLE IF NOT EXISTS futures_income (
    tran_id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL,
    symbol TEXT NOT NULL,
    income_type TEXT NOT NULL,
    income TEXT NOT NULL,
    time_ms INTEGER NOT NULL,
    trade_id INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS futures_income_by_account ON futures_income (account_id, tran_id);
CREATE TABLE IF NOT EXISTS futures_clock (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""

ACCOUNT_TABLES = (
    "futures_wallets",
    "futures_positions",
    "futures_orders",
    "futures_trades",
    "algo_orders",
    "futures_income",
)

R = TypeVar("R")


_COLUMNS: dict[type[Any], tuple[tuple[str, Any], ...]] = {}


def _columns(cls: type[Any]) -> tuple[tuple[str, Any], ...]:
    """Return the (name, type) of each field of a row dataclass, in order (cached)."""
    found = _COLUMNS.get(cls)
    if found is None:
        hints = get_type_hints(cls)
        found = _COLUMNS[cls] = tuple((f.name, hints[f.name]) for f in fields(cls))
    return found


def _to_column(value: object) -> object:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    return value


def _from_column(kind: Any, value: object) -> object:
    if kind is bool:
        return bool(value)
    if kind is Decimal:
        return Decimal(str(value))
    if isinstance(kind, type) and issubclass(kind, StrEnum):
        return kind(str(value))
    return value


def from_row(cls: type[R], row: Sequence[object]) -> R:
    """Read a row selected with all of ``cls``'s columns."""
    values = [_from_column(kind, v) for (_, kind), v in zip(_columns(cls), row, strict=True)]
    return cls(*values)


def _select(cls: type[Any], table: str) -> str:
    names = ", ".join(name for name, _ in _columns(cls))
    return f"SELECT {names} FROM {table}"  # noqa: S608 - names from dataclass fields


def _insert(cls: type[Any], table: str, *, with_id: bool) -> str:
    names = [name for name, _ in _columns(cls)][0 if with_id else 1 :]
    marks = ", ".join("?" for _ in names)
    return f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})"  # noqa: S608


def _values(obj: Any, *, with_id: bool) -> tuple[object, ...]:
    values = tuple(_to_column(v) for v in astuple(obj))
    return values if with_id else values[1:]


def _where(*conditions: tuple[str, object | None]) -> tuple[str, list[object]]:
    """Return ``(sql, args)`` ANDing each ``(clause, value)`` whose value is not None;
    a clause holds one ``?`` (``"symbol = ?"``, ``"trade_id >= ?"``)."""
    given = [(clause, value) for clause, value in conditions if value is not None]
    return " AND ".join(clause for clause, _ in given), [value for _, value in given]


class FuturesTx:
    """The futures side of one transaction on the writer connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def _all(self, cls: type[R], table: str, where: str, args: Sequence[object]) -> list[R]:
        sql = f"{_select(cls, table)} WHERE {where}"
        return [from_row(cls, row) for row in self._conn.execute(sql, args).fetchall()]

    def _one(self, cls: type[R], table: str, where: str, args: Sequence[object]) -> R | None:
        found = self._all(cls, table, where, args)
        return found[0] if found else None

    # wallet and clock

    def wallet(self, account_id: int) -> Decimal:
        """Return the account's USDT futures wallet balance (zero if it never had one)."""
        row = self._conn.execute(
            "SELECT balance FROM futures_wallets WHERE account_id = ?", (account_id,)
        ).fetchone()
        return Decimal(row[0]) if row else ZERO

    def put_wallet(self, account_id: int, balance: Decimal) -> None:
        """Set the account's USDT futures wallet balance."""
        self._conn.execute(
            "INSERT INTO futures_wallets (account_id, balance) VALUES (?, ?) "
            "ON CONFLICT (account_id) DO UPDATE SET balance = excluded.balance",
            (account_id, str(balance)),
        )

    def has_wallet(self, account_id: int) -> bool:
        """Tell whether the account has a futures wallet row."""
        row = self._conn.execute(
            "SELECT 1 FROM futures_wallets WHERE account_id = ?", (account_id,)
        ).fetchone()
        return row is not None

    def clock(self, name: str) -> int:
        """Return a stored time (zero if never set): the last funding time."""
        row = self._conn.execute("SELECT value FROM futures_clock WHERE name = ?", (name,))
        found = row.fetchone()
        return int(found[0]) if found else 0

    def set_clock(self, name: str, value: int) -> None:
        """Store a time."""
        self._conn.execute(
            "INSERT INTO futures_clock (name, value) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (name, value),
        )

    # positions

    def position(self, account_id: int, symbol: str, default_leverage: int) -> Position:
        """Return the account's position and settings in ``symbol`` (defaults when none)."""
        found = self._one(
            Position, "futures_positions", "account_id = ? AND symbol = ?", (account_id, symbol)
        )
        return found or Position(account_id, symbol, leverage=default_leverage)

    def positions(self, account_id: int | None = None) -> list[Position]:
        """Return the positions and settings of an account (or of every account)."""
        if account_id is None:
            every = self._all(Position, "futures_positions", "1 = 1", ())
            return [p for p in every if p.amount]
        return self._all(Position, "futures_positions", "account_id = ?", (account_id,))

    def put_position(self, position: Position) -> None:
        """Write a position and its settings."""
        self._conn.execute(
            _insert(Position, "futures_positions", with_id=True).replace("INSERT", "REPLACE"),
            _values(position, with_id=True),
        )

    # orders

    def insert_order(self, order: FuturesOrder) -> FuturesOrder:
        """Insert an order; Binance's duplicate refusal if its client id was used before."""
        try:
            cursor = self._conn.execute(
                _insert(FuturesOrder, "futures_orders", with_id=False),
                _values(order, with_id=False),
            )
        except sqlite3.IntegrityError:
            raise errors.duplicate_order() from None
        return replace(order, order_id=cursor.lastrowid or 0)

    def update_order(self, order: FuturesOrder) -> None:
        """Write an order's status, executed amounts and update time."""
        self._conn.execute(
            "UPDATE futures_orders SET status = ?, executed_qty = ?, cum_quote = ?, "
            "updated_ms = ? WHERE order_id = ?",
            (
                order.status.value,
                str(order.executed_qty),
                str(order.cum_quote),
                order.updated_ms,
                order.order_id,
            ),
        )

    def client_id_taken(self, account_id: int, client_order_id: str) -> bool:
        """Tell whether the account used ``client_order_id`` for an order before."""
        row = self._conn.execute(
            "SELECT 1 FROM futures_orders WHERE account_id = ? AND client_order_id = ?",
            (account_id, client_order_id),
        ).fetchone()
        return row is not None

    def order(
        self, account_id: int, symbol: str, order_id: int | None, client_id: str | None
    ) -> FuturesOrder | None:
        """Return an order by exchange id or client id (both must match when both given)."""
        where, args = _where(
            ("account_id = ?", account_id),
            ("symbol = ?", symbol),
            ("order_id = ?", order_id),
            ("client_order_id = ?", client_id),
        )
        return self._one(FuturesOrder, "futures_orders", where, args)

    def open_orders(self, account_id: int | None, symbol: str | None = None) -> list[FuturesOrder]:
        """Return resting orders, of one account (and symbol) or of all."""
        where, args = _where(
            ("status = ?", FuturesStatus.NEW.value),
            ("account_id = ?", account_id),
            ("symbol = ?", symbol),
        )
        return self._all(FuturesOrder, "futures_orders", where + " ORDER BY order_id", args)

    # algo orders

    def insert_algo(self, order: AlgoOrder) -> AlgoOrder:
        """Insert an algo order; the duplicate refusal if its client algo id was used."""
        try:
            cursor = self._conn.execute(
                _insert(AlgoOrder, "algo_orders", with_id=False), _values(order, with_id=False)
            )
        except sqlite3.IntegrityError:
            raise errors.duplicate_order() from None
        return replace(order, algo_id=cursor.lastrowid or 0)

    def update_algo(self, order: AlgoOrder) -> None:
        """Write an algo order whole (its id kept)."""
        self._conn.execute(
            _insert(AlgoOrder, "algo_orders", with_id=True).replace("INSERT", "REPLACE"),
            _values(order, with_id=True),
        )

    def algo(self, account_id: int, algo_id: int | None, client_id: str | None) -> AlgoOrder | None:
        """Return an account's algo order by id or client algo id."""
        where, args = _where(
            ("account_id = ?", account_id),
            ("algo_id = ?", algo_id),
            ("client_algo_id = ?", client_id),
        )
        return self._one(AlgoOrder, "algo_orders", where, args)

    def open_algos(self, account_id: int | None, symbol: str | None = None) -> list[AlgoOrder]:
        """Return algo orders waiting for their trigger."""
        where, args = _where(
            ("status = ?", AlgoStatus.NEW.value),
            ("account_id = ?", account_id),
            ("symbol = ?", symbol),
        )
        return self._all(AlgoOrder, "algo_orders", where + " ORDER BY algo_id", args)

    # trades and income

    def insert_trade(self, trade: FuturesTrade) -> FuturesTrade:
        """Insert a trade and return it with its id."""
        cursor = self._conn.execute(
            _insert(FuturesTrade, "futures_trades", with_id=False), _values(trade, with_id=False)
        )
        return replace(trade, trade_id=cursor.lastrowid or 0)

    def trades(
        self, account_id: int, symbol: str, order_id: int | None, from_id: int | None, limit: int
    ) -> list[FuturesTrade]:
        """Return an account's trades in a symbol, oldest first (the newest ``limit``)."""
        where, args = _where(
            ("account_id = ?", account_id),
            ("symbol = ?", symbol),
            ("order_id = ?", order_id),
            ("trade_id >= ?", from_id),
        )
        found = self._all(
            FuturesTrade,
            "futures_trades",
            f"{where} ORDER BY trade_id DESC LIMIT ?",
            [*args, limit],
        )
        return found[::-1]

    def insert_income(self, income: Income) -> Income:
        """Insert an income row and return it with its transaction id."""
        cursor = self._conn.execute(
            _insert(Income, "futures_income", with_id=False), _values(income, with_id=False)
        )
        return replace(income, tran_id=cursor.lastrowid or 0)

    def income(
        self,
        account_id: int,
        symbol: str | None,
        income_type: IncomeType | None,
        window: tuple[int | None, int | None],
        limit: int,
    ) -> list[Income]:
        """Return an account's income rows, oldest first, filtered like Binance."""
        where, args = _where(
            ("account_id = ?", account_id),
            ("symbol = ?", symbol),
            ("income_type = ?", income_type.value if income_type else None),
            ("time_ms >= ?", window[0]),
            ("time_ms <= ?", window[1]),
        )
        found = self._all(
            Income, "futures_income", f"{where} ORDER BY tran_id DESC LIMIT ?", [*args, limit]
        )
        return found[::-1]
