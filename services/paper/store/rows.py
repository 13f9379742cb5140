"""Rows of the SQLite file to models and back; shared by the reads and the write transaction."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import aiosqlite

from services.paper.models import (
    Balance,
    ListStatus,
    Order,
    OrderList,
    OrderRef,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    Trade,
)

Row = Sequence[Any]

ORDER_COLUMNS = (
    "order_id, account_id, symbol, client_order_id, side, type, time_in_force, price, "
    "orig_qty, orig_quote_qty, executed_qty, cumm_quote_qty, status, created_ms, updated_ms, "
    "stop_price, order_list_id, working"
)
ORDER_SELECT = f"SELECT {ORDER_COLUMNS} FROM orders"  # noqa: S608 - constant column list
TRADE_COLUMNS = (
    "trade_id, order_id, account_id, symbol, side, price, qty, quote_qty, commission, "
    "commission_asset, is_maker, time_ms"
)
TRADE_SELECT = f"SELECT {TRADE_COLUMNS} FROM trades"  # noqa: S608 - constant column list
LIST_COLUMNS = (
    "order_list_id, account_id, symbol, list_client_order_id, status, created_ms, updated_ms"
)
LIST_SELECT = f"SELECT {LIST_COLUMNS} FROM order_lists"  # noqa: S608 - constant column list


def _insert(table: str, columns: str) -> str:
    names = columns.split(", ")[1:]  # the id is the table's to give
    marks = ", ".join("?" for _ in names)
    return f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})"  # noqa: S608 - constants


ORDER_INSERT = _insert("orders", ORDER_COLUMNS)
TRADE_INSERT = _insert("trades", TRADE_COLUMNS)
LIST_INSERT = _insert("order_lists", LIST_COLUMNS)


def balance(row: Row) -> Balance:
    """Read a ``(asset, free, locked)`` row."""
    return Balance(row[0], Decimal(row[1]), Decimal(row[2]))


def order(row: Row) -> Order:
    """Read a row selected with `ORDER_COLUMNS`."""
    return Order(
        order_id=row[0],
        account_id=row[1],
        symbol=row[2],
        client_order_id=row[3],
        side=Side(row[4]),
        type=OrderType(row[5]),
        time_in_force=TimeInForce(row[6]),
        price=Decimal(row[7]),
        orig_qty=Decimal(row[8]),
        orig_quote_qty=Decimal(row[9]),
        executed_qty=Decimal(row[10]),
        cumm_quote_qty=Decimal(row[11]),
        status=OrderStatus(row[12]),
        created_ms=row[13],
        updated_ms=row[14],
        stop_price=Decimal(row[15]),
        order_list_id=row[16],
        working=bool(row[17]),
    )


def order_values(o: Order) -> tuple[object, ...]:
    """Return the columns of `ORDER_COLUMNS` after ``order_id``, for an INSERT."""
    return (
        o.account_id,
        o.symbol,
        o.client_order_id,
        o.side.value,
        o.type.value,
        o.time_in_force.value,
        str(o.price),
        str(o.orig_qty),
        str(o.orig_quote_qty),
        str(o.executed_qty),
        str(o.cumm_quote_qty),
        o.status.value,
        o.created_ms,
        o.updated_ms,
        str(o.stop_price),
        o.order_list_id,
        int(o.working),
    )


def order_list(row: Row) -> OrderList:
    """Read a row selected with `LIST_COLUMNS`."""
    return OrderList(
        order_list_id=row[0],
        account_id=row[1],
        symbol=row[2],
        list_client_order_id=row[3],
        status=ListStatus(row[4]),
        created_ms=row[5],
        updated_ms=row[6],
    )


def order_list_values(o: OrderList) -> tuple[object, ...]:
    """Return the columns of `LIST_COLUMNS` after ``order_list_id``, for an INSERT."""
    return (
        o.account_id,
        o.symbol,
        o.list_client_order_id,
        o.status.value,
        o.created_ms,
        o.updated_ms,
    )


def list_query(
    account_id: int, list_id: int | None, client_id: str | None
) -> tuple[str, list[object]]:
    """Return the query of an account's order list by exchange id and/or client id."""
    where, args = "account_id = ?", list[object]([account_id])
    if list_id is not None:
        where += " AND order_list_id = ?"
        args.append(list_id)
    if client_id is not None:
        where += " AND list_client_order_id = ?"
        args.append(client_id)
    return f"{LIST_SELECT} WHERE {where}", args


LEGS_QUERY = f"{ORDER_SELECT} WHERE order_list_id = ? ORDER BY order_id"


def trade(row: Row) -> Trade:
    """Read a row selected with `TRADE_COLUMNS`."""
    return Trade(
        trade_id=row[0],
        order_id=row[1],
        account_id=row[2],
        symbol=row[3],
        side=Side(row[4]),
        price=Decimal(row[5]),
        qty=Decimal(row[6]),
        quote_qty=Decimal(row[7]),
        commission=Decimal(row[8]),
        commission_asset=row[9],
        is_maker=bool(row[10]),
        time_ms=row[11],
    )


def trade_values(t: Trade) -> tuple[object, ...]:
    """Return the columns of `TRADE_COLUMNS` after ``trade_id``, for an INSERT."""
    return (
        t.order_id,
        t.account_id,
        t.symbol,
        t.side.value,
        str(t.price),
        str(t.qty),
        str(t.quote_qty),
        str(t.commission),
        t.commission_asset,
        int(t.is_maker),
        t.time_ms,
    )


def order_query(account_id: int, symbol: str, ref: OrderRef) -> tuple[str, list[object]]:
    """Return the query of the order ``ref`` names in ``symbol`` (both ids when both given)."""
    where, args = "account_id = ? AND symbol = ?", [account_id, symbol]
    if ref.order_id is not None:
        where += " AND order_id = ?"
        args.append(ref.order_id)
    if ref.client_order_id is not None:
        where += " AND client_order_id = ?"
        args.append(ref.client_order_id)
    return f"{ORDER_SELECT} WHERE {where}", args


def first_order(found: Sequence[Row]) -> Order | None:
    """Return the order of the first row found, if any."""
    return order(found[0]) if found else None


async def find_order(
    conn: aiosqlite.Connection, account_id: int, symbol: str, ref: OrderRef
) -> Order | None:
    """Return the order ``ref`` names in ``symbol``; both ids must match when both are given."""
    query, args = order_query(account_id, symbol, ref)
    return first_order(list(await conn.execute_fetchall(query, args)))
