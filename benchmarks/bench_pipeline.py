"""The whole pipeline under open-model load: webhook to paper exchange to ledger.

``python -m benchmarks.bench_pipeline [--rate 200] [--seconds 60] [--tenants 1000]
[--burst 5000] [--quick] [--sweep 50,100,150,200] [--exchange-latency-ms 100] [--realistic]
[--kill executor,router [--kill-burst 2000]]`` (``--quick``: 50 tenants, 50/s for 10 s, a
burst of 500; ``docs/benchmarks.md`` describes every option and figure).

All six services run as processes (``scripts.devstack.Stack``, as ``make run`` starts them)
in a namespace of their own, against NATS, Postgres and Redis from ``SPARKY_TEST_*_URL``
(local defaults) and an OpenBao dev server the bench starts. Traders are provisioned through
the APIs; then the phases, each sent by a separate load-generator process on a fixed
schedule (``benchmarks/pipeline/load.py``) and followed until the ledger has settled it:

1. warm-up: each tenant's first alert (Vault read, new ccxt client), at ``--rate``;
2. sustained: ``--rate`` alerts/s for ``--seconds`` (``--sweep``: one phase per rate);
3. burst: ``--burst`` alerts due within one second, as at a candle close;
4. with ``--kill``: a burst of ``--kill-burst`` during which the named services are
   SIGKILLed in turn and restarted.

Each phase prints the webhook answers (with TradingView's resends of a 5xx), latency from
the alert's due time to the webhook answer, to the router's order stored in ORDERS, to the
order at the paper exchange and to the fill committed in the ledger (see
``benchmarks/pipeline/figures.py``), exactly-once, and per process CPU, CPU per alert above
an idle baseline and peak RSS (``benchmarks/pipeline/cpu.py``). Everything the run created
is removed afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import asyncpg

from benchmarks.pipeline.figures import PhaseFigures, print_phase
from benchmarks.pipeline.mix import HOT, Mix
from benchmarks.pipeline.runner import Bench
from benchmarks.pipeline.summaries import burst_verdict, print_sweep, sweep_row
from benchmarks.pipeline.tenants import provision_many
from benchmarks.pipeline.verdicts import STAGES, exactly_once, kill_text
from scripts.devstack import Stack, StackConfig
from tests.helpers.servers import ServerUrls, urls_from_env
from tests.helpers.stack import PIPELINE, running_stack, stack_config
from tests.helpers.vault import VaultServer, vault_dev_server

QUICK = {"tenants": 50, "rate": 50.0, "seconds": 10.0, "burst": 500}
FULL = {"tenants": 1000, "rate": 200.0, "seconds": 60.0, "burst": 5000}
IDLE_S = 10.0  # the baseline before the load
# --realistic: a plan that limits alerts (far above the load: never refused, but ingress
# pays its Redis call), closes that sell all (the executor reads the balance), a hot tenant.
REALISTIC_ALERTS_PER_HOUR = 10_000_000
HOT_SHARE = 0.3


async def run_phases(args: argparse.Namespace, cfg: StackConfig, stack: Stack) -> None:
    """Provision the traders, then run and print the phases."""
    limit = REALISTIC_ALERTS_PER_HOUR if args.realistic else None
    traders, took = await provision_many(cfg, args.tenants, alerts_per_hour=limit)
    print(f"provisioned {args.tenants} traders through the APIs in {took:.1f} s")
    conn = await asyncpg.connect(cfg.infra.database_url)  # one, held: the server is shared
    bench = Bench(cfg, stack, [t.webhook_token for t in traders], conn)
    await bench.start()
    try:
        if args.exchange_latency_ms:
            await bench.add_exchange_latency(args.exchange_latency_ms)
            print(f"paper exchange: {args.exchange_latency_ms} ms before placing each order")
        await bench.measure_idle(IDLE_S)
        await _phases(args, bench)
    finally:
        await bench.stop()
        await conn.close()


async def _phases(args: argparse.Namespace, bench: Bench) -> None:
    mix = Mix(args.tenants, HOT_SHARE, closes=True) if args.realistic else None
    hot = HOT if args.realistic else None
    first = f"warm-up: each tenant's first alert at {args.rate:g}/s"
    _print(await bench.phase("warm", first, args.rate, args.tenants))
    rows = []
    for rate in args.sweep or ([args.rate] if args.seconds > 0 else []):
        name = f"sustained: {rate:g}/s for {args.seconds:g} s"
        figures = await bench.phase("sustained", name, rate, int(rate * args.seconds), mix)
        figures.hot = hot
        _print(figures)
        rows.append(sweep_row(rate, figures))
    if rows:
        print_sweep(rows)
    if args.burst > 0:
        name = f"burst: {args.burst} alerts in 1 s"
        figures = await bench.phase("burst", name, float(args.burst), args.burst, mix)
        figures.hot = hot
        _print(figures)
        print(burst_verdict(figures))
    if args.kill:
        await _kill_phase(args, bench, mix)


async def _kill_phase(args: argparse.Namespace, bench: Bench, mix: Mix | None) -> None:
    name = f"burst of {args.kill_burst} in 1 s, SIGKILL {', '.join(args.kill)} in turn"
    rate = float(args.kill_burst)
    figures, kills = await bench.phase_with_kills(
        "kill", name, rate, args.kill_burst, mix=mix, kill=args.kill
    )
    _print(figures)
    print(burst_verdict(figures))
    first_due = min(s.due_ms for s in figures.sent)
    for kill in kills:
        print(kill_text(figures, kill, first_due))


def _print(figures: PhaseFigures) -> None:
    print_phase(figures)
    print(f"  {exactly_once(figures).text()}")


async def bench(args: argparse.Namespace, urls: ServerUrls, vault: VaultServer) -> None:
    """Run the phases against a fresh stack; remove everything it made afterwards."""
    namespace = "bench" + secrets.token_hex(4)
    # Every tenant's ccxt client stays pooled, as an operator sizes the pool for its tenants.
    pool = {"CLIENT_POOL_SIZE": str(args.tenants + 100)}
    cfg = replace(stack_config(urls, vault, namespace, args.workdir), extra_env={"executor": pool})
    # running_stack with no services of its own: its exit removes the namespace's streams,
    # buckets, schemas and Redis keys once our stack (with its extra settings and the
    # services' own pool sizes, not the tests' small ones) has stopped.
    async with running_stack(urls, vault, namespace, args.workdir, services=(), nats_users=False):
        stack = Stack(cfg, PIPELINE)  # the web app and the notifier have no part in it
        try:
            started = time.perf_counter()
            await asyncio.to_thread(stack.start)
            print(f"stack started in {time.perf_counter() - started:.1f} s")
            await run_phases(args, cfg, stack)
        except Exception:
            for name, proc in stack.processes.items():  # the logs go with the temporary folder
                print(f"-- {name} log, last lines --\n{proc.tail(15)}", file=sys.stderr)
            raise
        finally:
            await asyncio.to_thread(stack.stop)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short development run")
    parser.add_argument("--tenants", type=int)
    parser.add_argument("--rate", type=float, help="sustained alerts per second")
    parser.add_argument("--seconds", type=float, help="how long a sustained phase lasts (0: none)")
    parser.add_argument("--burst", type=int, help="alerts due within one second (0: no burst)")
    parser.add_argument(
        "--sweep", type=_rates, help="sustained phases at these rates, e.g. 50,100,150,200"
    )
    parser.add_argument(
        "--exchange-latency-ms", type=int, default=0, help="paper exchange latency per order"
    )
    parser.add_argument(
        "--realistic",
        action="store_true",
        help="alert limits, closes that sell all, a hot tenant (30 %% of the load)",
    )
    parser.add_argument(
        "--kill",
        type=_services,
        default=[],
        help="services to SIGKILL in turn: " + ",".join(STAGES),
    )
    parser.add_argument("--kill-burst", type=int, default=2000, help="the --kill burst's alerts")
    args = parser.parse_args(argv)
    for key, default in (QUICK if args.quick else FULL).items():
        if getattr(args, key) is None:
            setattr(args, key, default)
    return args


def _rates(text: str) -> list[float]:
    rates = [float(part) for part in text.split(",") if part.strip()]
    if not rates or min(rates) <= 0:
        raise argparse.ArgumentTypeError("rates above 0, comma separated, e.g. 50,100,150,200")
    return rates


def _services(text: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    if unknown := [n for n in names if n not in STAGES]:
        raise argparse.ArgumentTypeError(f"cannot measure a kill of {', '.join(unknown)}")
    return names


def main() -> None:
    args = parse_args()
    rates = ", ".join(f"{r:g}" for r in args.sweep or [args.rate])
    extras = [f"exchange latency {args.exchange_latency_ms} ms"] * bool(args.exchange_latency_ms)
    extras += ["realistic mix"] * args.realistic
    extras += [f"kill {','.join(args.kill)} in a burst of {args.kill_burst}"] * bool(args.kill)
    print(
        f"== whole pipeline: {args.tenants} tenants, {rates}/s for {args.seconds:g} s, "
        f"burst {args.burst}; {'; '.join(extras) + '; ' if extras else ''}"
        f"{os.cpu_count()} cores =="
    )
    with tempfile.TemporaryDirectory(prefix="sparky-bench-pipeline-") as workdir:
        args.workdir = Path(workdir)
        with vault_dev_server() as vault:
            asyncio.run(bench(args, urls_from_env(), vault))


if __name__ == "__main__":
    main()
