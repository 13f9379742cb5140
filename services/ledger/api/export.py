"""CSV export of trades, streamed a chunk at a time so any history fits in constant memory."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable

from services.ledger.api.schemas import TradeOut, plain

COLUMNS = (
    "time",
    "account",
    "exchange",
    "symbol",
    "side",
    "price",
    "amount",
    "fee",
    "fee_currency",
    "trade_id",
    "client_order_id",
    "exchange_order_id",
    "intent_id",
)
# A cell starting with one of these is run as a formula by spreadsheets (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe(text: str | None) -> str:
    """Return ``text`` so that a spreadsheet shows it instead of evaluating it."""
    if not text:
        return ""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def cells(trade: TradeOut) -> list[str]:
    """Return one CSV row: decimals exact and without exponent, times in ISO 8601 UTC."""
    return [
        trade.time.isoformat(),
        safe(trade.account),
        safe(trade.exchange),
        safe(trade.symbol),
        trade.side,
        plain(trade.price),
        plain(trade.amount),
        plain(trade.fee),
        safe(trade.fee_currency),
        safe(trade.trade_id),
        safe(trade.client_order_id),
        safe(trade.exchange_order_id),
        trade.intent_id,
    ]


def _lines(rows: Iterable[Iterable[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


async def csv_chunks(pages: AsyncIterator[list[TradeOut]]) -> AsyncIterator[str]:
    """Yield the header, then the rows of each page of trades."""
    yield _lines([COLUMNS])
    async for page in pages:
        yield _lines(cells(trade) for trade in page)
