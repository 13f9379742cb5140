"""Bursts of alerts from many traders, and the exactly-once accounting of what came of them.

Every alert of a burst is a small market order on BTCUSDT whose quantity is unique to its
trader (0.001 BTC for a buy, 0.0005 for a sell, plus its number of lot steps), so an order at
the paper exchange names the alert it came from even when its client order id is not known (an
alert first answered 503 and stored anyway, then found as a duplicate by the resend). The
accounting then holds each accepted alert to exactly one order (with the client order id of its
intent when the answer was a 202), each unaccepted one to none, and the ledger to the paper
exchange's fills.

The sender behaves like TradingView: on a 503 (or no answer) it sends the same body again, so
the dedup key is the same; unlike TradingView it keeps trying until the answer is not a 503,
so that every alert ends accepted or refused and none is left in doubt.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
import nats
from nats.js import JetStreamContext

from libs.common.topology import Topology
from scripts.devstack import StackConfig
from tests.helpers import pipeline
from tests.helpers.pipeline import Trader
from tests.helpers.polling import eventually

SYMBOL = "BTCUSDT"
UNIFIED = "BTC/USDT"
BASE_QTY = Decimal("0.001")
STEP = Decimal("0.00001")  # BTCUSDT's lot step at the paper exchange
SEED_QTY = Decimal("0.5")  # more than the sells of three bursts of 100 alerts sell
STORED = (200, 202)  # 202 stored now; 200 a duplicate of one stored before
NO_ANSWER = 0  # the request failed without an HTTP answer
PAGE_LIMIT = 1000


@dataclass(frozen=True)
class PlannedAlert:
    """One alert of a burst: a market buy or sell whose quantity is unique to its trader.

    Sparky never sells more than the strategy's own coins, and a burst's alerts of one trader
    are in flight together (so stored in any order): each trader's strategy is first given a
    position (`seeds`, a buy of `SEED_QTY` placed before the burst) that covers all its sells.
    """

    trader: Trader
    number: int
    seed: bool = False

    @property
    def side(self) -> str:
        return "buy" if self.seed or self.number % 2 == 0 else "sell"

    @property
    def quantity(self) -> Decimal:
        if self.seed:
            return SEED_QTY
        first = BASE_QTY if self.side == "buy" else BASE_QTY / 2
        return first + self.number * STEP

    @property
    def body(self) -> str:
        return f"{self.side} {SYMBOL} {self.quantity}"

    @property
    def key(self) -> tuple[str, Decimal]:
        """What an exchange order of this alert shows: its side and quantity."""
        return (self.side.upper(), self.quantity)


@dataclass
class Answer:
    """Every answer ingress gave one alert, in order, and the intent id of its 202."""

    alert: PlannedAlert
    statuses: list[int] = field(default_factory=list)
    intent_id: str | None = None

    @property
    def accepted(self) -> bool:
        return bool(self.statuses) and self.statuses[-1] in STORED

    def describe(self) -> str:
        intent = f"intent {self.intent_id}" if self.intent_id else "no intent id"
        return f"alert #{self.alert.number} {self.alert.body!r} ({intent}, answers {self.statuses})"


def seeds(traders: Sequence[Trader]) -> list[PlannedAlert]:
    """Return one buy per trader giving its strategy the coins the bursts' sells sell."""
    return [PlannedAlert(trader, -1, seed=True) for trader in traders]


def plan(traders: Sequence[Trader], per_trader: int, first: int = 0) -> list[PlannedAlert]:
    """Return ``per_trader`` alerts numbered from ``first`` for each trader, interleaved."""
    return [
        PlannedAlert(trader, number)
        for number in range(first, first + per_trader)
        for trader in traders
    ]


class Burst:
    """Send alerts with bounded concurrency (and an optional pace), resending on 503.

    Resends come ``resend_pause_s`` apart, at most ``max_attempts`` in all: by default within
    40 s, inside INTENTS' 60 s duplicate window, so a resend of an alert stored despite its
    503 is answered as a duplicate rather than stored twice.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        alerts: Sequence[PlannedAlert],
        *,
        concurrency: int = 32,
        rate_per_s: float | None = None,
        resend_pause_s: float = 1.0,
        max_attempts: int = 40,
    ) -> None:
        self._client = client
        self._slots = asyncio.Semaphore(concurrency)
        self._rate = rate_per_s
        self._pause = resend_pause_s
        self._max_attempts = max_attempts
        self.answers = [Answer(alert) for alert in alerts]
        self.answered = 0  # alerts with at least one answer
        self._progress = asyncio.Condition()

    async def run(self) -> list[Answer]:
        """Send every alert until it is answered with something else than a 503."""
        started = time.monotonic()
        tasks = []
        for i, answer in enumerate(self.answers):
            if self._rate is not None:
                await asyncio.sleep(max(0.0, started + i / self._rate - time.monotonic()))
            await self._slots.acquire()
            tasks.append(asyncio.create_task(self._deliver(answer)))
        await asyncio.gather(*tasks)
        return self.answers

    async def wait_answered(self, count: int) -> None:
        """Return once ``count`` alerts have had a first answer."""
        async with self._progress:
            await self._progress.wait_for(lambda: self.answered >= count)

    async def _deliver(self, answer: Answer) -> None:
        try:
            for attempt in range(self._max_attempts):
                if attempt:
                    await asyncio.sleep(self._pause)
                status = await self._attempt(answer)
                if len(answer.statuses) == 1:
                    async with self._progress:
                        self.answered += 1
                        self._progress.notify_all()
                if status not in (503, NO_ANSWER):
                    return
        finally:
            self._slots.release()

    async def _attempt(self, answer: Answer) -> int:
        try:
            resp = await pipeline.send(self._client, answer.alert.trader, answer.alert.body)
        except httpx.TransportError:
            answer.statuses.append(NO_ANSWER)
            return NO_ANSWER
        answer.statuses.append(resp.status_code)
        if resp.status_code == 202:
            answer.intent_id = resp.json()["intent_id"]
        return resp.status_code


def status_counts(answers: Iterable[Answer]) -> Counter[int]:
    """How many answers of each HTTP status the alerts got, resends included."""
    return Counter(status for answer in answers for status in answer.statuses)


def client_order_id(intent_id: str) -> str:
    """The client order id of the only leg of a one-order intent (the router's format)."""
    return f"sp{intent_id}0"


@dataclass(frozen=True)
class Book:
    """What one trader's account shows at the paper exchange and in the ledger."""

    orders: list[dict[str, Any]]
    fills: list[dict[str, Any]]
    ledger_trades: list[dict[str, Any]]
    ledger_position: Decimal


async def read_book(client: httpx.AsyncClient, cfg: StackConfig, trader: Trader) -> Book:
    """Read the trader's orders and fills (paper exchange) and trades and position (ledger)."""
    orders = await pipeline.exchange_orders(client, cfg, trader, SYMBOL)
    fills = await pipeline.exchange_fills(client, cfg, trader, SYMBOL)
    if max(len(orders), len(fills)) >= PAGE_LIMIT:
        raise AssertionError(f"{trader.name}: over {PAGE_LIMIT} orders; plan smaller bursts")
    return Book(
        orders=orders,
        fills=fills,
        ledger_trades=[
            t for t in await pipeline.trades(client, cfg, trader) if t["symbol"] == UNIFIED
        ],
        ledger_position=await pipeline.position_quantity(client, cfg, trader, UNIFIED),
    )


async def read_books(
    client: httpx.AsyncClient, cfg: StackConfig, traders: Iterable[Trader]
) -> dict[str, Book]:
    """Return every trader's `Book`, by tenant id."""
    return {t.tenant_id: await read_book(client, cfg, t) for t in traders}


def _order_key(order: Mapping[str, Any]) -> tuple[str, Decimal]:
    return (str(order["side"]), Decimal(order["origQty"]).normalize())


def order_problems(answers: Sequence[Answer], book: Book) -> list[str]:
    """Return what breaks "each accepted alert is exactly one order, the others none"."""
    by_key: dict[tuple[str, Decimal], list[dict[str, Any]]] = defaultdict(list)
    for order in book.orders:
        by_key[_order_key(order)].append(order)
    problems: list[str] = []
    known = set()
    for answer in answers:
        key = (answer.alert.key[0], answer.alert.key[1].normalize())
        known.add(key)
        problems += _alert_problems(answer, by_key.get(key, []))
    problems += [
        f"order {o['clientOrderId']} ({o['side']} {o['origQty']}) matches no alert sent"
        for key, found in by_key.items()
        if key not in known
        for o in found
    ]
    duplicated = [
        cid for cid, n in Counter(o["clientOrderId"] for o in book.orders).items() if n > 1
    ]
    problems += [f"client order id {cid} used by more than one order" for cid in duplicated]
    return problems


def _alert_problems(answer: Answer, orders: list[dict[str, Any]]) -> list[str]:
    ids = [o["clientOrderId"] for o in orders]
    if not answer.accepted:
        return [f"{answer.describe()}: not accepted, yet orders {ids}"] if orders else []
    if len(orders) != 1:
        return [f"{answer.describe()}: {len(orders)} orders {ids}, expected exactly one"]
    problems = []
    if answer.intent_id and ids[0] != client_order_id(answer.intent_id):
        problems.append(f"{answer.describe()}: order {ids[0]} is not the intent's")
    if orders[0]["status"] != "FILLED":
        problems.append(f"{answer.describe()}: order {ids[0]} is {orders[0]['status']}")
    return problems


def ledger_problems(book: Book) -> list[str]:
    """Return where the ledger differs from the paper exchange's fills."""
    exchange = Counter(str(f["id"]) for f in book.fills)
    ledger = Counter(str(t["trade_id"]) for t in book.ledger_trades)
    problems = [f"fill {tid} missing from the ledger" for tid in sorted(exchange - ledger)]
    problems += [f"ledger trade {tid} not a fill" for tid in sorted(set(ledger) - set(exchange))]
    problems += [f"ledger trade {tid} recorded {n} times" for tid, n in ledger.items() if n > 1]
    net = pipeline.net_fills(book.fills)
    if net != book.ledger_position:
        problems.append(f"ledger position {book.ledger_position} != net of the fills {net}")
    return problems


def accounting_report(
    answers: Sequence[Answer], books: Mapping[str, Book], traders: Iterable[Trader]
) -> str:
    """Return every problem, per tenant, or an empty string when everything adds up."""
    by_tenant: dict[str, list[Answer]] = defaultdict(list)
    for answer in answers:
        by_tenant[answer.alert.trader.tenant_id].append(answer)
    lines = []
    for trader in traders:
        book = books[trader.tenant_id]
        problems = order_problems(by_tenant[trader.tenant_id], book) + ledger_problems(book)
        lines += [f"{trader.name} ({trader.tenant_id}): {p}" for p in problems]
    return "\n".join(lines)


async def wait_settled(
    client: httpx.AsyncClient,
    cfg: StackConfig,
    traders: Sequence[Trader],
    timeout_s: float = 300.0,
) -> dict[str, Book]:
    """Wait until the pipeline is done with the alerts; return every trader's `Book`.

    Done means: the router's and the executor's consumers hold nothing pending or
    unacknowledged (every intent was routed, every order handled: the exchange's books are
    final), and the ledger has as many trades as the exchange has fills. Not done after
    ``timeout_s`` is no error here: the caller's accounting then says what is missing.
    Call it once every alert is answered (so that every accepted intent is in the stream).
    """
    deadline = time.monotonic() + timeout_s

    async def recorded() -> bool:
        books = await read_books(client, cfg, traders)
        return all(len(b.ledger_trades) >= len(b.fills) for b in books.values())

    nc = await nats.connect(cfg.infra.admin_nats_url, connect_timeout=5)
    try:
        js, topology = nc.jetstream(), Topology(namespace=cfg.namespace)
        # Not settled in time is no error: the caller's accounting says what is missing.
        with contextlib.suppress(AssertionError):
            await eventually(
                lambda: _consumers_idle(js, topology),
                what="the consumers idle",
                timeout_s=deadline - time.monotonic(),
                interval_s=1.0,
            )
    finally:
        await nc.close()
    with contextlib.suppress(AssertionError):
        await eventually(
            recorded,
            what="every fill in the ledger",
            timeout_s=deadline - time.monotonic(),
            interval_s=2.0,
        )
    return await read_books(client, cfg, traders)


async def _consumers_idle(js: JetStreamContext, topology: Topology) -> bool:
    """Whether the router's and executor's partition consumers have finished every message."""
    streams = {"router": topology.intents_stream, "executor": topology.orders_stream}
    for service, stream in streams.items():
        for p in range(topology.partitions):
            info = await js.consumer_info(stream, topology.consumer_name(service, p))
            if info.num_pending or info.num_ack_pending:
                return False
    return True
