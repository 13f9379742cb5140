"""The projector's side of Postgres: apply a batch of events in one transaction.

Everything a batch changes commits together with the ids of the events it applied
(``processed_events``) and the stream position reached (``projector_state``), so an event is
applied exactly once: a redelivered or re-published event finds its id already there and is
skipped, and a crash before the commit leaves nothing half-applied.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, text
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.common.messages import (
    IntentAccepted,
    IntentRejected,
    OrderFilled,
    PositionDrift,
)
from libs.common.messages.events import OrderEvent
from services.ledger.domain.inserts import funding_rows, trade_rows
from services.ledger.domain.projection import Changes, State, fold
from services.ledger.domain.rows import Poison, Sequenced
from services.ledger.store.bulk import Table
from services.ledger.store.mapping import (
    DAILY,
    FUNDING,
    INTENTS,
    MARKS,
    ORDER_EVENTS,
    ORDERS,
    POISON,
    POSITIONS,
    PROCESSED,
    STRATEGY_DAILY,
    STRATEGY_TOTALS,
    TRADES,
    intent_from,
    order_from,
    position_from,
)
from services.ledger.store.progress import SAVE_PROGRESS, progress

# The projections are derived from the stream and record how far they got in the same
# transaction, so a commit lost in a Postgres crash is simply replayed from the stream: no
# need to wait for each commit to reach the disk.
_AS_WRITER = text(
    "SELECT set_config('role', :role, true), set_config('synchronous_commit', 'off', true)"
)
_DAILY_ADD = (
    f"INSERT INTO daily_pnl AS d ({', '.join(DAILY.names)}) "  # noqa: S608 - constant identifiers
    "SELECT tenant_id, account_label, day, currency, sum(realized_pnl), sum(fees), sum(volume), "
    f"sum(fills), sum(funding) FROM ({DAILY.rows_select('daily')}) AS u({', '.join(DAILY.names)}) "
    "GROUP BY tenant_id, account_label, day, currency "
    "ON CONFLICT (tenant_id, account_label, day, currency) DO UPDATE SET "
    "realized_pnl = d.realized_pnl + EXCLUDED.realized_pnl, fees = d.fees + EXCLUDED.fees, "
    "volume = d.volume + EXCLUDED.volume, fills = d.fills + EXCLUDED.fills, "
    "funding = d.funding + EXCLUDED.funding"
)
_STRATEGY_ADD = (
    f"INSERT INTO strategy_daily AS d ({', '.join(STRATEGY_DAILY.names)}) "  # noqa: S608
    "SELECT tenant_id, strategy, day, currency, sum(realized_pnl), sum(fills) "
    f"FROM ({STRATEGY_DAILY.rows_select('strategies')}) "
    f"AS u({', '.join(STRATEGY_DAILY.names)}) GROUP BY tenant_id, strategy, day, currency "
    "ON CONFLICT (tenant_id, strategy, day, currency) DO UPDATE SET "
    "realized_pnl = d.realized_pnl + EXCLUDED.realized_pnl, fills = d.fills + EXCLUDED.fills"
)
_TOTALS = ", ".join(STRATEGY_TOTALS.names)
STRATEGY_TOTALS_ADD = (
    f"INSERT INTO strategy_totals AS t ({_TOTALS}) "  # noqa: S608 - constant identifiers
    "SELECT tenant_id, strategy, currency, sum(alerts), sum(trades), sum(wins), sum(losses), "
    f"sum(realized_pnl), max(last_signal_at) FROM ({STRATEGY_TOTALS.rows_select('totals')}) "
    f"AS u({_TOTALS}) GROUP BY tenant_id, strategy, currency "
    "ON CONFLICT (tenant_id, strategy, currency) DO UPDATE SET "
    "alerts = t.alerts + EXCLUDED.alerts, trades = t.trades + EXCLUDED.trades, "
    "wins = t.wins + EXCLUDED.wins, losses = t.losses + EXCLUDED.losses, "
    "realized_pnl = t.realized_pnl + EXCLUDED.realized_pnl, "
    "last_signal_at = GREATEST(t.last_signal_at, EXCLUDED.last_signal_at)"
)
# Every change of an alert takes the next number of the feed's sequence (a new row takes it
# by default): a stream resumes after the last number it sent.
_INTENTS_UPSERT = INTENTS.upsert_sql("intents") + ", seq = nextval('intents_seq')"
# The read API listens on this channel (per schema) and wakes the streams of these tenants.
ALERTS_CHANNEL = "sparky_alerts."
_NOTIFY = text("SELECT pg_notify(:prefix || current_schema(), :tenants)")
_MAX_NOTIFY = 7000  # bytes; Postgres takes 8000: beyond, "*" wakes every stream
# A mark older than the one kept (polls may arrive out of order) changes nothing.
_MARKS_NEWEST = MARKS.insert_sql(
    "ON CONFLICT (tenant_id, account_label, symbol) DO UPDATE SET "
    + ", ".join(f"{n} = EXCLUDED.{n}" for n in MARKS.names if n not in MARKS.key)
    + " WHERE marks.marked_at < EXCLUDED.marked_at",
    param="marks",
)


@dataclass(frozen=True, slots=True)
class Batch:
    """Messages fetched together, decoded, in stream order."""

    events: tuple[Sequenced, ...]
    poison: tuple[Poison, ...]
    last_seq: int

    @property
    def last_occurred_at(self) -> datetime | None:
        return self.events[-1].event.occurred_at if self.events else None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a batch did: the events applied; the rest were duplicates or poison."""

    applied: tuple[Sequenced, ...]
    duplicates: int
    set_aside: tuple[Poison, ...]


async def apply_batch(conn: AsyncConnection, batch: Batch, *, role: str, stream: str) -> Outcome:
    """Apply ``batch`` in one transaction as ``role`` and record how far the stream was read."""
    async with conn.begin():
        await conn.execute(_AS_WRITER, {"role": role})
        fresh = await _claim(conn, batch)
        new_trades = await _insert_trades(conn, fresh)
        new_funding = await _insert_funding(conn, fresh)
        changes = fold(fresh, new_trades, await _load_state(conn, fresh), new_funding)
        await _write(conn, changes, progress(stream, batch.last_seq, batch.last_occurred_at))
        if changes.intents:
            await conn.execute(_NOTIFY, {"prefix": ALERTS_CHANNEL, "tenants": _tenants(changes)})
    return Outcome(tuple(fresh), len(batch.events) - len(fresh), batch.poison)


def _tenants(changes: Changes) -> str:
    """Return the tenants whose alerts changed, as the notification's payload."""
    tenants = ",".join(sorted({tenant for tenant, _ in changes.intents}))
    return tenants if len(tenants) <= _MAX_NOTIFY else "*"


async def _claim(conn: AsyncConnection, batch: Batch) -> list[Sequenced]:
    """Record the batch's poison and event ids; return the events not applied before, first
    copies only.
    """
    first: dict[str, Sequenced] = {}
    for item in batch.events:
        first.setdefault(item.event.message_id, item)
    poison = POISON.insert_sql(param="poison")
    if not first:
        if batch.poison:
            await conn.execute(text(poison), POISON.params(batch.poison, "poison"))
        return []
    claim = PROCESSED.insert_sql("ON CONFLICT DO NOTHING RETURNING message_id")
    params = PROCESSED.params(first.values())
    if batch.poison:
        claim = f"WITH poison AS ({poison}) {claim}"
        params |= POISON.params(batch.poison, "poison")
    claimed = set((await conn.execute(text(claim), params)).scalars())
    return [item for item in first.values() if item.event.message_id in claimed]


async def _insert_trades(conn: AsyncConnection, events: Sequence[Sequenced]) -> set[str]:
    """Insert the fills; return the row ids of those not recorded before (by trade id)."""
    rows = trade_rows(events)
    if not rows:
        return set()
    statement = TRADES.insert("ON CONFLICT DO NOTHING RETURNING id")
    return set((await conn.execute(statement, TRADES.params(rows))).scalars())


async def _insert_funding(conn: AsyncConnection, events: Sequence[Sequenced]) -> set[str]:
    """Insert the funding payments; return the row ids of those not recorded before."""
    rows = funding_rows(events)
    if not rows:
        return set()
    statement = FUNDING.insert("ON CONFLICT DO NOTHING RETURNING id")
    return set((await conn.execute(statement, FUNDING.params(rows))).scalars())


async def _load_state(conn: AsyncConnection, events: Sequence[Sequenced]) -> State:
    intents: set[tuple[str, ...]] = set()
    orders: set[tuple[str, ...]] = set()
    positions: set[tuple[str, ...]] = set()
    for item in events:
        event = item.event
        if isinstance(event, IntentAccepted | IntentRejected):
            intents.add((event.tenant_id, event.intent_id))
            continue
        if not isinstance(event, OrderEvent):
            continue  # written without reading (newest mark, funding by id, a refusal) or none
        orders.add((event.tenant_id, event.client_order_id))
        intents.add((event.tenant_id, event.intent_id))
        if isinstance(event, OrderFilled | PositionDrift):
            positions.add((event.tenant_id, event.account_label, event.symbol))
    state = State()
    for row in await _select(conn, ORDERS, orders):
        state.orders[(row["tenant_id"], row["client_order_id"])] = order_from(row)
    # An order's alert is the intent that placed it (a cancel through the API is another).
    intents |= {(order.tenant_id, order.intent_id) for order in state.orders.values()}
    for row in await _select(conn, INTENTS, intents):
        state.intents[(row["tenant_id"], row["intent_id"])] = intent_from(row)
    for row in await _select(conn, POSITIONS, positions):
        loaded = position_from(row)
        state.positions[loaded.key] = loaded
    return state


async def _select(
    conn: AsyncConnection, table: Table[Any], keys: set[tuple[str, ...]]
) -> list[RowMapping]:
    if not keys:
        return []
    result = await conn.execute(table.select_keys(), table.key_params(keys))
    return list(result.mappings())


async def _write(conn: AsyncConnection, changes: Changes, progress: dict[str, object]) -> None:
    """Write everything the batch changed, and its progress, in one statement (one round
    trip: each costs most under CPU contention).
    """
    writes: list[str] = []
    params: dict[str, object] = dict(progress)
    if changes.intents:
        writes.append(_INTENTS_UPSERT)
        params |= INTENTS.params(changes.intents.values(), "intents")
    if changes.orders:
        writes.append(ORDERS.upsert_sql("orders"))
        params |= ORDERS.params(changes.orders.values(), "orders")
    if changes.order_events:
        writes.append(ORDER_EVENTS.insert_sql(param="history"))
        params |= ORDER_EVENTS.params(changes.order_events, "history")
    if changes.positions:
        writes.append(POSITIONS.upsert_sql("positions"))
        params |= POSITIONS.params(changes.positions.values(), "positions")
    if changes.daily:
        writes.append(_DAILY_ADD)
        params |= DAILY.params(changes.daily, "daily")
    if changes.strategy_daily:
        writes.append(_STRATEGY_ADD)
        params |= STRATEGY_DAILY.params(changes.strategy_daily, "strategies")
    if changes.strategy_totals:
        writes.append(STRATEGY_TOTALS_ADD)
        params |= STRATEGY_TOTALS.params(changes.strategy_totals, "totals")
    if changes.marks:
        writes.append(_MARKS_NEWEST)
        params |= MARKS.params(changes.marks.values(), "marks")
    ctes = ", ".join(f"w{i} AS ({sql})" for i, sql in enumerate(writes))
    await conn.execute(text(f"WITH {ctes} {SAVE_PROGRESS}" if ctes else SAVE_PROGRESS), params)
