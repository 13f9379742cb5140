"""Benchmarks of the paper exchange, driven through ccxt's async binance class.

Run with ``python -m benchmarks.bench_paper``. It starts its own paper exchange process (a
temporary state file, access log off) and prints:

- the latency of one market order at a time (one client, ccxt's rate limiter off);
- the throughput of market orders with many clients each keeping one order in flight;
- the latency of market orders offered at a fixed rate (200/s by default) over many accounts,
  with ccxt's rate limiter on (the recipe) and off.

ccxt's rate limiter (``enableRateLimit``) charges each request's cost to the next request of
the same client: after an order (cost 0.2 x 50 ms) the next one waits about 10 ms, after a
``fetch_balance`` (cost 4) about 200 ms. The "limiter off" figures are the exchange's own.

ccxt runs in this process and the exchange in another, on the same cores: the figures are
what one paper exchange process serves to clients sharing its machine. Each line ends with the
exchange process's CPU per order; ``--fastapi-route`` serves ``/api/v3/order`` through
FastAPI's dependency layers instead of the plain route, to compare the two.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from tests.helpers.paper import PaperExchangeProcess, paper_exchange

QUIET = {"access_log": "false", "log_level": "WARNING"}
SYMBOL = "BTC/USDT"
AMOUNT = 0.001


def percentile(values: list[float], q: float) -> float:
    """Return the ``q`` quantile of ``values`` (0 < q < 1)."""
    return statistics.quantiles(values, n=1000)[int(q * 1000) - 1]


def cpu_s(paper: PaperExchangeProcess) -> float:
    """Return the CPU time (user + system) the exchange process has used so far."""
    fields = Path(f"/proc/{paper.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def report(
    label: str, n: int, elapsed: float, latencies: list[float], cpu: float | None = None
) -> None:
    """Print one line of figures (``cpu``: the exchange's CPU seconds over the ``n`` orders)."""
    per_order = f"   exchange CPU {cpu / n * 1e3:5.2f} ms/order" if cpu is not None else ""
    print(
        f"{label:<46} {n / elapsed:>8,.0f} orders/s   "
        f"p50 {percentile(latencies, 0.5) * 1e3:6.1f} ms   "
        f"p99 {percentile(latencies, 0.99) * 1e3:6.1f} ms{per_order}"
    )


async def _clients(paper: PaperExchangeProcess, n: int, **config: Any) -> list[Any]:
    clients = []
    for _ in range(n):
        account = await paper.create_account({"USDT": "1000000000"})
        client = paper.client(account, **config)
        await client.load_markets()
        clients.append(client)
    return clients


async def _timed(order: Callable[[], Awaitable[Any]], latencies: list[float]) -> None:
    start = time.perf_counter()
    await order()
    latencies.append(time.perf_counter() - start)


def _buy(client: Any) -> Callable[[], Awaitable[Any]]:
    return lambda: client.create_order(SYMBOL, "market", "buy", AMOUNT)


async def sequential(paper: PaperExchangeProcess, n: int) -> None:
    """One client, one order at a time: the floor of the latency."""
    [client] = await _clients(paper, 1, enableRateLimit=False)
    latencies: list[float] = []
    start, cpu = time.perf_counter(), cpu_s(paper)
    for _ in range(n):
        await _timed(_buy(client), latencies)
    elapsed = time.perf_counter() - start
    report("1 client, 1 in flight, limiter off", n, elapsed, latencies, cpu_s(paper) - cpu)
    await client.close()


async def saturated(paper: PaperExchangeProcess, n: int, clients: int) -> None:
    """Many clients (ccxt's rate limiter on), each keeping one order in flight."""
    pool = await _clients(paper, clients)
    latencies: list[float] = []

    async def loop(client: Any, count: int) -> None:
        for _ in range(count):
            await _timed(_buy(client), latencies)

    start, cpu = time.perf_counter(), cpu_s(paper)
    await asyncio.gather(*(loop(client, n // clients) for client in pool))
    label = f"{clients} clients, 1 in flight each, limiter on"
    elapsed = time.perf_counter() - start
    report(label, len(latencies), elapsed, latencies, cpu_s(paper) - cpu)
    await asyncio.gather(*(client.close() for client in pool))


async def paced(
    paper: PaperExchangeProcess, rate: float, seconds: float, clients: int, *, limiter: bool
) -> None:
    """Orders offered at ``rate`` per second, round-robin over ``clients`` accounts."""
    pool = await _clients(paper, clients, enableRateLimit=limiter)
    latencies: list[float] = []
    tasks = []
    start, cpu = time.perf_counter(), cpu_s(paper)
    for i in range(int(rate * seconds)):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(_timed(_buy(pool[i % clients]), latencies)))
    await asyncio.gather(*tasks)
    switch = "on" if limiter else "off"
    label = f"offered at {rate:.0f}/s, {clients} accounts, limiter {switch}"
    elapsed = time.perf_counter() - start
    report(label, len(latencies), elapsed, latencies, cpu_s(paper) - cpu)
    await asyncio.gather(*(client.close() for client in pool))


def _settings(args: argparse.Namespace) -> dict[str, str]:
    return {**QUIET, "plain_order_route": str(not args.fastapi_route).lower()}


async def main(args: argparse.Namespace) -> None:
    """Run the three benchmarks against one fresh paper exchange process."""
    with (
        tempfile.TemporaryDirectory(prefix="bench-paper-") as state,
        paper_exchange(Path(state), _settings(args)) as paper,
    ):
        await sequential(paper, args.sequential)
        await saturated(paper, args.orders, args.clients)
        await paced(paper, args.rate, args.seconds, args.accounts, limiter=True)
        await paced(paper, args.rate, args.seconds, args.accounts, limiter=False)


def parse_args() -> argparse.Namespace:
    """Read the benchmark's sizes from the command line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sequential", type=int, default=500, help="orders, one at a time")
    parser.add_argument("--orders", type=int, default=3000, help="orders, many clients")
    parser.add_argument("--clients", type=int, default=32, help="clients for the busy run")
    parser.add_argument("--rate", type=float, default=200.0, help="orders per second offered")
    parser.add_argument("--seconds", type=float, default=15.0, help="length of the paced run")
    parser.add_argument("--accounts", type=int, default=200, help="accounts for the paced run")
    parser.add_argument(
        "--fastapi-route", action="store_true", help="/api/v3/order through FastAPI (before)"
    )
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
