"""Futures calls on one account's session: position mode, leverage, margin mode, the venue's
positions, funding payments. Translated like every call (`ExchangeSession.call`)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import ccxt.async_support as ccxt

from libs.common.messages import MarginMode
from services.executor.adapters.exchange import ExchangeSession
from services.executor.adapters.parse import to_decimal

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class VenuePosition:
    """The account's position in one symbol as the venue reports it (``quantity`` signed)."""

    symbol: str
    quantity: Decimal
    entry_price: Decimal | None
    mark_price: Decimal | None
    unrealized_pnl: Decimal
    liquidation_price: Decimal | None


@dataclass(frozen=True, slots=True)
class FundingRow:
    """One funding payment (``amount`` signed: negative paid)."""

    funding_id: str
    symbol: str
    amount: Decimal
    currency: str
    paid_at: datetime


def _signed(position: dict[str, Any]) -> Decimal:
    contracts = to_decimal(position.get("contracts")) or ZERO
    size = contracts * (to_decimal(position.get("contractSize")) or Decimal(1))
    return -size if position.get("side") == "short" else size


def parse_position(position: dict[str, Any]) -> VenuePosition:
    """Return a ccxt position structure as a `VenuePosition`."""
    return VenuePosition(
        symbol=str(position.get("symbol")),
        quantity=_signed(position),
        entry_price=to_decimal(position.get("entryPrice")),
        mark_price=to_decimal(position.get("markPrice")),
        unrealized_pnl=to_decimal(position.get("unrealizedPnl")) or ZERO,
        liquidation_price=to_decimal(position.get("liquidationPrice")),
    )


async def ensure_one_way(session: ExchangeSession) -> None:
    """Put the account in one-way position mode (one signed position per symbol), which is
    how Sparky sizes, closes and protects futures positions."""
    mode = await session.call("fetch_position_mode", session.client.fetch_position_mode)
    if mode.get("hedged"):
        one_way = False
        await session.call("set_position_mode", session.client.set_position_mode, one_way)


async def current_leverage(session: ExchangeSession, symbol: str) -> Decimal | None:
    """Return the leverage the symbol is set to on the account, if the venue says."""
    method = session.venue.leverage_reader
    if method is None:
        raw = await session.call("fetch_leverage", session.client.fetch_leverage, symbol)
        return to_decimal(raw.get("longLeverage") or raw.get("shortLeverage"))
    market_id = session.client.market(symbol)["id"]
    rows = await session.call(method, getattr(session.client, method), {"symbol": market_id})
    for row in rows:
        if row.get("symbol") == market_id:
            return to_decimal(row.get("leverage"))
    return None


async def set_leverage(session: ExchangeSession, symbol: str, leverage: Decimal) -> None:
    await session.call("set_leverage", session.client.set_leverage, int(leverage), symbol)


async def set_margin_mode(session: ExchangeSession, symbol: str, mode: MarginMode) -> None:
    """Set the symbol's margin mode; one already set is done (Binance's -4046)."""

    async def unless_set() -> None:
        with contextlib.suppress(ccxt.MarginModeAlreadySet):
            await session.client.set_margin_mode(mode.value, symbol)

    await session.call("set_margin_mode", unless_set)


async def positions(session: ExchangeSession, symbols: list[str]) -> list[VenuePosition]:
    """Return the account's positions in ``symbols`` (flat ones as zero)."""
    raw = await session.call("fetch_positions", session.client.fetch_positions, symbols)
    found = {p.symbol: p for p in map(parse_position, raw) if p.symbol in symbols}
    return [found.get(s) or VenuePosition(s, ZERO, None, None, ZERO, None) for s in symbols]


async def position(session: ExchangeSession, symbol: str) -> VenuePosition:
    return (await positions(session, [symbol]))[0]


async def funding(session: ExchangeSession, symbol: str, since: datetime) -> list[FundingRow]:
    """Return the funding payments of ``symbol`` since ``since``, oldest first."""
    raw = await session.call(
        "fetch_funding_history",
        session.client.fetch_funding_history,
        symbol,
        int(since.timestamp() * 1000),
    )
    rows = []
    for item in raw:
        amount, key = to_decimal(item.get("amount")), item.get("id")
        if amount is None or not key:
            continue
        stamp = item.get("timestamp") or 0
        rows.append(
            FundingRow(
                funding_id=str(key)[:64],
                symbol=symbol,
                amount=amount,
                currency=str(item.get("code") or "USDT")[:16],
                paid_at=datetime.fromtimestamp(stamp / 1000, tz=UTC),
            )
        )
    return sorted(rows, key=lambda r: r.paid_at)
