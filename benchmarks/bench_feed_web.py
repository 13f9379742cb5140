"""Benchmark of the trader's feed page (issue 18): the web app's ``GET /alerts`` with 100,000
alerts, as a signed-in trader sees it.

Run with ``python -m benchmarks.bench_feed_web`` (``make bench-feed`` runs it after
``bench_feed``). Prints figures; the ones we keep are in docs/benchmarks.md. Needs NATS,
Postgres and Redis at the test URLs (``SPARKY_TEST_*``, as the tests) and ``bao`` for an
OpenBao dev server; everything it makes (namespace, schemas, streams) is removed afterwards.

As in production: billing, router, ledger and the web app run as processes
(``scripts.devstack``, as ``make run`` starts them), the web app calling the ledger's and the
router's HTTP APIs with the tenant's key. A trader signs up at ``/signup``, opens the link of
the verification mail (a local SMTP server, ``scripts.mailbox``) and signs in at ``/login``.
Then 100,000 alerts land in the ledger's schema for the trader's tenant (and 50,000 for each
of two neighbours; ``bench_feed.seed``, the projection's own table definitions) and each page
is asked ``BENCH_FEED_REQUESTS`` (200) times, one request at a time: the feed's first page, a
filtered page, pages reached through "Older alerts", ``/strategies`` and ``/positions``.
Latency is the wall time seen by the browser; CPU per request is the web app's and the
ledger's process CPU time (user + system, psutil) over the figure's requests, divided by
their number: the steadier figure on a shared machine. Goal: p95 ≤ 100 ms.
"""

from __future__ import annotations

import asyncio
import os
import re
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from html import unescape
from pathlib import Path

import asyncpg
import httpx
import psutil

from benchmarks.bench_feed import seed
from libs.common.config import Environment
from scripts.devstack import Stack
from scripts.mailbox import Mailbox
from services.ledger.config import LedgerSettings
from tests.helpers.namespaces import new_namespace
from tests.helpers.servers import urls_from_env
from tests.helpers.stack import running_stack
from tests.helpers.vault import vault_dev_server
from tests.helpers.web import Browser, link_in

SERVICES = ("billing", "router", "ledger", "web")
EMAIL = "bench-trader@example.test"
PASSWORD = "a long bench password"  # noqa: S105 - a throwaway account in a throwaway stack
_OLDER = re.compile(r'id="older" rel="next" href="([^"]+)"')


@dataclass(frozen=True)
class Processes:
    """The processes whose CPU a figure reports."""

    web: psutil.Process
    ledger: psutil.Process

    def cpu(self) -> tuple[float, float]:
        return _cpu(self.web), _cpu(self.ledger)


def _cpu(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return float(times.user + times.system)


def report(label: str, samples: list[float], web_cpu: float, ledger_cpu: float) -> None:
    cuts = statistics.quantiles(samples, n=100)
    n = len(samples)
    print(
        f"{label:<40} p50 {cuts[49] * 1e3:>6.1f}  p95 {cuts[94] * 1e3:>6.1f}"
        f"  p99 {cuts[98] * 1e3:>6.1f} ms   CPU/request web {web_cpu / n * 1e3:>5.2f}"
        f"  ledger {ledger_cpu / n * 1e3:>5.2f} ms   ({n})"
    )


async def measure(
    label: str, procs: Processes, n: int, call: Callable[[int], Awaitable[httpx.Response]]
) -> None:
    """Time ``n`` calls (``call(i)``), one at a time; report latency and CPU per request."""
    samples = []
    web0, ledger0 = procs.cpu()
    for i in range(n):
        started = time.perf_counter()
        response = await call(i)
        samples.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise RuntimeError(f"{label}: {response.status_code} {response.text[:300]}")
    web1, ledger1 = procs.cpu()
    report(label, samples, web1 - web0, ledger1 - ledger0)


async def sign_up(http: httpx.AsyncClient, mailbox: Mailbox) -> None:
    """Sign up, verify the email from the mail, sign in: as a person would."""
    browser = Browser(http)
    answer = await browser.submit(
        "/signup", "/signup", email=EMAIL, password=PASSWORD, name="Bench Trader"
    )
    answer.raise_for_status()
    mail = await mailbox.until(EMAIL, "", 60)
    verified = await http.get(link_in(mail, "/verify"))
    if verified.status_code != 303:  # to /login, verified
        raise RuntimeError(f"verify: {verified.status_code} {verified.text[:300]}")
    deadline = time.monotonic() + 60
    while (signed := await browser.sign_in(EMAIL, PASSWORD)).status_code != 303:
        if time.monotonic() > deadline:  # 503 until billing has made the tenant
            raise RuntimeError(f"sign-in: {signed.status_code} {signed.text[:300]}")
        await asyncio.sleep(0.5)


async def tenant_of(postgres: str, web_schema: str) -> str:
    """The tenant billing made for the trader (read as the operator, from the web app's
    users)."""
    conn = await asyncpg.connect(postgres)
    try:
        tenant = await conn.fetchval(
            f'SELECT tenant_id FROM "{web_schema}".users WHERE email_key = $1',  # noqa: S608
            EMAIL,
        )
    finally:
        await conn.close()
    if not tenant:
        raise RuntimeError("the trader has no tenant")
    return str(tenant)


@asynccontextmanager
async def stack_with_mailbox(folder: Path) -> AsyncIterator[tuple[Stack, Mailbox]]:
    mailbox = Mailbox(folder / "mail")
    mailbox.start()
    try:
        with vault_dev_server() as vault:
            async with running_stack(
                urls_from_env(),
                vault,
                new_namespace(),
                folder / "stack",
                SERVICES,
                smtp_port=mailbox.port,
            ) as stack:
                yield stack, mailbox
    finally:
        mailbox.stop()


async def pages(http: httpx.AsyncClient, procs: Processes, n: int) -> None:
    for _ in range(20):  # warm the pools and the caches
        (await http.get("/alerts")).raise_for_status()
    await measure("GET /alerts (first page of 50)", procs, n, lambda _: http.get("/alerts"))
    await measure(
        "GET /alerts?status=filled", procs, n, lambda _: http.get("/alerts?status=filled")
    )
    await measure(
        "GET /alerts?strategy=Breakout&symbol=…",
        procs,
        n,
        lambda _: http.get("/alerts?strategy=Breakout&symbol=BINANCE:ETHUSDT"),
    )
    older = ["/alerts"]

    async def next_page(_: int) -> httpx.Response:
        response = await http.get(older[-1])
        found = _OLDER.search(response.text)
        older.append(unescape(found.group(1)) if found else "/alerts")
        return response

    await measure(f"GET /alerts?cursor=… (pages 1-{n})", procs, n, next_page)
    await measure("GET /strategies", procs, n, lambda _: http.get("/strategies"))
    await measure("GET /positions", procs, n, lambda _: http.get("/positions"))


async def run(alerts: int, n: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-feed-web-") as folder:
        async with stack_with_mailbox(Path(folder)) as (stack, mailbox):
            cfg = stack.cfg
            async with httpx.AsyncClient(base_url=cfg.url("web"), timeout=30) as http:
                await sign_up(http, mailbox)
                tenant = await tenant_of(cfg.infra.database_url, cfg.schema("web"))
                settings = LedgerSettings(
                    environment=Environment.TEST,
                    namespace=cfg.namespace,
                    database_url=cfg.infra.database_url,
                    database_schema=cfg.schema("ledger"),
                    log_json=False,
                )
                started = time.perf_counter()
                await seed(settings, alerts, tenant)
                seconds = time.perf_counter() - started
                print(f"{'seeded ' + f'{alerts * 2:,} alerts (3 tenants)':<40} {seconds:.1f} s")
                procs = Processes(
                    psutil.Process(stack["web"].pid), psutil.Process(stack["ledger"].pid)
                )
                await pages(http, procs, n)


def main() -> None:
    print("== the feed page (web app and ledger as processes) ==")
    print("load average (1, 5, 15 min): {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
    requests = int(os.environ.get("BENCH_FEED_REQUESTS", "200"))
    asyncio.run(run(alerts=100_000, n=requests))


if __name__ == "__main__":
    main()
