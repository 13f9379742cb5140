"""Ordering: 50 tenants send open / close / reverse sequences at once, and each ends where its
alerts say, at the ledger and at the paper exchange.

Every tenant trades BTCUSDT on a spot paper account that starts with USDT only, so the BTC it
holds is its position. Its alerts go out one after the other (each answered before the next is
sent), while all 50 tenants send at the same time, so ingress, the router and the executor see
the tenants interleaved. What each alert means on a spot account (docs/router.md, "Actions →
orders"), as the small model `expected_position` below applies it:

- ``buy q`` (one-line text, or the strategy JSON template): hold ``q`` more;
- ``sell q`` (strategy JSON template), only sent while at least ``q`` is held: hold ``q`` less;
- ``close`` (the indicator close template, or ``close BTCUSDT``): hold nothing; sent while
  holding nothing it places nothing;
- reverse, in target-position mode (the strategy target-position template): to short ``q``
  holds nothing, since a spot account cannot be short; back to long ``q`` holds exactly ``q``.

These steps do not commute (a close before or after a buy, a target before or after a sell), so
an alert acted on out of its tenant's order, twice, or not at all ends elsewhere. The paper
exchange runs without fees here, so "holds ``q``" is exact (a buy's fee is taken in BTC).
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest

from scripts.devstack import Stack, StackConfig
from tests.helpers import pipeline
from tests.helpers.e2e_alerts import (
    accepted,
    api_client,
    client_order_id,
    json_template,
    render,
    settled_trail,
    text_template,
    timenow,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

TENANTS = 50
STEPS = 6
SIZES = (Decimal("0.001"), Decimal("0.002"), Decimal("0.003"))
PARTS = (Decimal("0.0005"), Decimal("0.001"))
WAIT_S = 180.0
STACK_ENV = {"paper": {"TAKER_FEE": "0", "MAKER_FEE": "0"}}  # fee-free: exact quantities


@dataclass(frozen=True)
class Step:
    """One alert: ``kind`` is buy, sell, close or target; ``size`` its quantity or target."""

    kind: str
    size: Decimal = Decimal(0)


def expected_fills(steps: Sequence[Step]) -> list[Decimal]:
    """What each alert buys (+) or sells (-), starting with no BTC (see the docstring)."""
    held, fills = Decimal(0), []
    for step in steps:
        if step.kind == "buy":
            after = held + step.size
        elif step.kind == "sell":
            after = held - step.size
        elif step.kind == "close":
            after = Decimal(0)
        else:
            after = max(step.size, Decimal(0))
        fills.append(after - held)
        held = after
    return fills


def expected_position(steps: Sequence[Step]) -> Decimal:
    """The BTC held after ``steps``."""
    return sum(expected_fills(steps), Decimal(0))


def random_steps(rng: random.Random) -> list[Step]:
    """A tenant's sequence: opens, partial sells while holding enough, closes, reversals."""
    steps: list[Step] = [Step("buy", rng.choice(SIZES))]
    while len(steps) < STEPS:
        held = expected_position(steps)
        kind = rng.choice(("buy", "buy", "sell", "sell", "close", "target"))
        if kind == "buy":
            steps.append(Step("buy", rng.choice(SIZES)))
        elif kind == "sell" and held >= PARTS[0]:
            steps.append(Step("sell", rng.choice([p for p in PARTS if p <= held])))
        elif kind == "close":
            steps.append(Step("close"))
        elif kind == "target":
            steps.append(Step("target", rng.choice(SIZES) * rng.choice((-1, 1))))
    return steps


def alert_text(step: Step, key: str, rng: random.Random) -> str:
    """Render ``step`` from a docs/alerts.md template, as TradingView would send it.

    ``key`` goes in as the sender's ``id``: two alerts with the same text in the same second
    (two closes) would otherwise be one alert.
    """
    values = {"exchange": "BINANCE", "ticker": "BTCUSDT", "timenow": timenow()}
    if step.kind == "buy" and rng.random() < 0.5:
        line = render(
            text_template(),
            values | {"strategy.order.action": "buy", "strategy.order.contracts": str(step.size)},
        )
        return f"{line} id={key}"
    if step.kind == "close" and rng.random() < 0.5:
        return f"close BTCUSDT id={key}"
    if step.kind in {"buy", "sell"}:
        template = json_template("Strategy, one order per fill")
        values |= {
            "strategy.order.action": step.kind,
            "strategy.order.contracts": str(step.size),
            "strategy.order.id": step.kind,
        }
    elif step.kind == "close":
        template = json_template("Indicator alerts", 1)
    else:
        template = json_template("Strategy, target position")
        values |= {
            "strategy.order.action": "buy" if step.size > 0 else "sell",
            "strategy.market_position": "long" if step.size > 0 else "short",
            "strategy.position_size": str(step.size),
        }
    return json.dumps(json.loads(render(template, values)) | {"id": key})


async def send_in_order(
    client: httpx.AsyncClient, trader: pipeline.Trader, steps: Sequence[Step], seed: int
) -> list[str]:
    """Send the tenant's alerts one after the other; return their intent ids."""
    rng = random.Random(seed)
    intents = []
    for n, step in enumerate(steps):
        intents.append(await accepted(client, trader, alert_text(step, f"s{n}", rng)))
    return intents


async def outcome(
    client: httpx.AsyncClient, cfg: StackConfig, trader: pipeline.Trader, intents: Sequence[str]
) -> dict[str, Any]:
    """Where the tenant ended at the ledger and the exchange, and what each alert traded there.

    An alert that placed no order (or one the exchange refused) traded 0; orders that belong
    to no alert of the tenant's are listed by client order id.
    """
    orders = await pipeline.exchange_orders(client, cfg, trader, "BTCUSDT")
    traded = {o["clientOrderId"]: pipeline.net_base([o]) for o in orders}
    mine = [client_order_id(i) for i in intents]
    fills = await pipeline.exchange_fills(client, cfg, trader, "BTCUSDT")
    return {
        "ledger": await pipeline.position_quantity(client, cfg, trader, "BTC/USDT"),
        "exchange": pipeline.net_fills(fills),
        "per_alert": [traded.get(c, Decimal(0)) for c in mine],
        "foreign_orders": sorted(set(traded) - set(mine)),
    }


def expected_outcome(steps: Sequence[Step]) -> dict[str, Any]:
    """What `outcome` must find after ``steps``."""
    fills = expected_fills(steps)
    final = sum(fills, Decimal(0))
    return {"ledger": final, "exchange": final, "per_alert": fills, "foreign_orders": []}


async def test_every_tenant_ends_where_its_alerts_say_when_fifty_send_at_once(
    stack: Stack,
) -> None:
    cfg = stack.cfg
    rng = random.Random(20261121)
    plans = [random_steps(random.Random(rng.random())) for _ in range(TENANTS)]
    gate = asyncio.Semaphore(8)
    async with api_client(TENANTS * 2) as client:

        async def trader(n: int) -> pipeline.Trader:
            async with gate:
                return await pipeline.provision(client, cfg, f"t{n}", balances={"USDT": "100000"})

        traders = await asyncio.gather(*(trader(n) for n in range(TENANTS)))
        sent = await asyncio.gather(
            *(
                send_in_order(client, t, p, n)
                for n, (t, p) in enumerate(zip(traders, plans, strict=True))
            )
        )
        for t, intents in zip(traders, sent, strict=True):
            # Each tenant's events reach the ledger in order: its last alert decided means all.
            await settled_trail(client, cfg, t, intents[-1], WAIT_S)
        ended = await asyncio.gather(
            *(outcome(client, cfg, t, i) for t, i in zip(traders, sent, strict=True))
        )

    wrong = {
        t.name: {"got": got, "expected": expected_outcome(p), "alerts": p}
        for t, p, got in zip(traders, plans, ended, strict=True)
        if got != expected_outcome(p)
    }
    assert wrong == {}
    # The sequences did exercise every kind of step, and ended in different places.
    assert {s.kind for p in plans for s in p} == {"buy", "sell", "close", "target"}
    assert len({expected_position(p) for p in plans}) > 3
