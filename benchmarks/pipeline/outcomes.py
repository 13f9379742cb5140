"""Where each accepted alert ended up, read from the services' own records after a phase.

- The paper exchange: its SQLite file, opened read-only, gives every order's client order id
  and creation time (``created_ms``, the ``time``/``workingTime`` Binance's API shows: when
  the exchange accepted the order). The router derives the client order id from the intent id
  (``sp<intent id><leg>``), so the intent id of a 202 finds its order; one leg per alert here.
- The ORDERS stream: the time JetStream stored each ``PlaceOrder`` the router published
  (server clock, same machine) splits the path into ingress + router and executor + exchange.
- The ledger: its tables in the stack's ``<namespace>_ledger`` schema give the EVENTS stream
  position of each intent's fill; `LedgerWatch` says when the projector committed it.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import nats
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from libs.common.topology import Topology

SETTLE_POLL_S = 0.5


@dataclass(frozen=True, slots=True)
class Sent:
    """One alert as the load generator saw it."""

    due_ms: float  # wall clock: when the schedule sent it
    first_status: int  # 0 broken connection, -1 no answer at all
    final_status: int  # after TradingView-style resends of a 5xx
    intent_id: str
    answer_ms: float | None  # the first answer, from the due time
    tenant: int = 0  # the sender's index among the bench's tenants

    @classmethod
    def from_row(cls, row: list[Any]) -> Sent:
        tenant = int(row[5]) if len(row) > 5 else 0
        return cls(float(row[0]), int(row[1]), int(row[2]), str(row[3]), row[4], tenant)


def client_order_id(intent_id: str) -> str:
    """The router's client order id of an intent's first (here only) leg."""
    return f"sp{intent_id}0"


def exchange_times(paper_state: Path) -> tuple[dict[str, int], dict[str, int]]:
    """Every client order id's first creation time at the paper exchange (ms epoch), and how
    many orders the exchange holds with it (over all accounts: one, if exactly once held).
    """
    conn = sqlite3.connect(f"file:{paper_state}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT client_order_id, min(created_ms), count(*) FROM orders GROUP BY client_order_id"
        ).fetchall()
    finally:
        conn.close()
    return {row[0]: row[1] for row in rows}, {row[0]: row[2] for row in rows}


async def orders_stored(
    nats_url: str, topology: Topology, after_seq: int
) -> tuple[dict[str, float], int]:
    """When JetStream stored each order after ``after_seq`` (ms epoch), by client order id.

    Returns them and the stream position read up to, where the next call starts.
    """
    nc = await nats.connect(nats_url, connect_timeout=5)
    try:
        js, stream = nc.jetstream(), topology.orders_stream
        last = (await js.stream_info(stream)).state.last_seq
        stored: dict[str, float] = {}
        if last <= after_seq:
            return stored, after_seq
        config = ConsumerConfig(
            ack_policy=AckPolicy.NONE,
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=after_seq + 1,
            inactive_threshold=30.0,
        )
        sub = await js.pull_subscribe(
            f"{topology.namespace}.orders.>", stream=stream, config=config
        )
        seq = after_seq
        while seq < last:
            for msg in await sub.fetch(1000, timeout=5):
                seq = msg.metadata.sequence.stream
                at = msg.metadata.timestamp.timestamp() * 1e3
                stored[json.loads(msg.data)["client_order_id"]] = at
        return stored, seq
    finally:
        await nc.close()


async def intents_stored(nats_url: str, topology: Topology) -> int:
    """How many alerts ingress has stored in INTENTS so far, answered or not."""
    nc = await nats.connect(nats_url, connect_timeout=5)
    try:
        info = await nc.jetstream().stream_info(topology.intents_stream)
        return int(info.state.last_seq)
    finally:
        await nc.close()


async def ledger_positions(conn: asyncpg.Connection, schema: str) -> dict[str, int]:
    """The EVENTS stream position of each intent's first fill the ledger recorded."""
    rows = await conn.fetch(
        f'SELECT t.intent_id, min(p.stream_seq) AS seq FROM "{schema}".trades t '  # noqa: S608
        f'JOIN "{schema}".processed_events p ON p.message_id = t.message_id GROUP BY t.intent_id'
    )
    return {row["intent_id"]: row["seq"] for row in rows}


async def ledger_fill_counts(conn: asyncpg.Connection, schema: str) -> dict[str, int]:
    """How many exchange orders the ledger recorded fills of, by intent (one: exactly once)."""
    rows = await conn.fetch(
        f"SELECT intent_id, count(DISTINCT exchange_order_id) AS orders "  # noqa: S608
        f'FROM "{schema}".trades GROUP BY intent_id'
    )
    return {row["intent_id"]: row["orders"] for row in rows}


async def refused_intents(conn: asyncpg.Connection, schema: str) -> dict[str, str]:
    """The intents refused by the router or whose order the executor refused or gave up on
    (no order expected at the exchange, e.g. a close with nothing held), with the reason.
    """
    rows = await conn.fetch(
        f'SELECT intent_id, reject_reason AS reason FROM "{schema}".intents '  # noqa: S608
        "WHERE status = 'rejected' UNION ALL "
        f'SELECT intent_id, coalesce(reason_code, status) FROM "{schema}".orders '
        "WHERE status IN ('rejected', 'failed')"
    )
    return {row["intent_id"]: str(row["reason"]) for row in rows}


async def settled(conn: asyncpg.Connection, schema: str) -> int:
    """How many intents the ledger knows the end of: order filled or refused, or rejected."""
    value = await conn.fetchval(
        f'SELECT (SELECT count(*) FROM "{schema}".orders WHERE status IN '  # noqa: S608
        "('filled', 'rejected', 'failed', 'canceled')) + "
        f"(SELECT count(*) FROM \"{schema}\".intents WHERE status = 'rejected')"
    )
    return int(value)


async def wait_settled(conn: asyncpg.Connection, schema: str, target: int, stall_s: float) -> int:
    """Wait until ``target`` intents are settled or none settles for ``stall_s``; say how many."""
    done, progressed = await settled(conn, schema), time.perf_counter()
    while done < target and time.perf_counter() - progressed < stall_s:
        await asyncio.sleep(SETTLE_POLL_S)
        now = await settled(conn, schema)
        if now > done:
            done, progressed = now, time.perf_counter()
    return done
