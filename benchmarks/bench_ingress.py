"""Ingress under an open-model load: accepted alerts/s and ack latency at fixed arrival rates.

Run with ``python -m benchmarks.bench_ingress`` (about 2 minutes). It needs NATS with
JetStream and Redis (``SPARKY_NATS_URL``, ``SPARKY_INGRESS_REDIS_URL``, local defaults).

- 1,000 tenants, each with a webhook, go into the KV buckets of a fresh namespace;
- one ingress process runs as in production (``python -m services.ingress``: uvicorn with
  uvloop and httptools, JSON access logs at INFO (every refusal, 1 in 100 successes, the
  default), redaction, trace ids without an exporter, Prometheus, the Redis rate limit with
  a limit high enough never to refuse);
- a separate load-generator process (``… generate``) sends valid JSON alerts round-robin
  over the tenants on a fixed schedule (open model): request *i* is due at
  ``start + i / rate`` whether or not earlier ones were answered, on raw HTTP/1.1 keep-alive
  connections (a new one when none is idle). Latency runs from the due time to the answer's
  last byte, so a stalled server is charged for every request queued behind it;
- it prints per rate: accepted/s, p50/p99/p99.9, ingress CPU, the generator's CPU per
  request (its own limit), then the highest rate found with p99 under 10 ms.

``--quick`` (about 40 s) runs 250/s and 500/s only, without the search: enough to compare the
CPU per alert of two versions, run alternately minutes apart on this shared machine.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import nats
import redis
import uvloop

from benchmarks.rawhttp import Connection
from libs.common.jetstream import delete_topology, ensure_topology
from libs.common.records import secret_digest
from libs.common.topology import Topology
from tests import factories

TENANTS = 1000
RATES = (500, 1000, 2000)
QUICK_RATES = (250, 500)
STEP_S = 10.0
SEARCH_STEPS = 3
P99_BUDGET_MS = 10.0
IDLE_CONNECTIONS = 64
ROOT = Path(__file__).resolve().parent.parent
NATS_URL = os.environ.get("SPARKY_NATS_URL", "nats://127.0.0.1:4222")
REDIS_URL = os.environ.get("SPARKY_INGRESS_REDIS_URL", "redis://127.0.0.1:6379/0")


# -- the load generator (its own process) ------------------------------------------------------
async def _generate(rate: float, duration_s: float, port: int, tokens: list[str]) -> dict[str, Any]:
    loop = asyncio.get_running_loop()

    async def connect() -> Connection:
        _, protocol = await loop.create_connection(Connection, "127.0.0.1", port)
        return protocol

    idle = [await connect() for _ in range(IDLE_CONNECTIONS)]
    run = secrets.token_hex(4)
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    max_lag = 0.0

    async def one(connection: Connection | None, request: bytes, due: float) -> None:
        try:
            if connection is None or connection.closed:
                connection = await connect()
            statuses[(await connection.send(request))[0]] += 1
            latencies.append(time.perf_counter() - due)
            idle.append(connection)
        except OSError:
            statuses[0] += 1

    count = int(rate * duration_s)
    # perf_counter, not loop.time(): uvloop's clock has millisecond resolution.
    cpu0, start = time.process_time(), time.perf_counter() + 0.05
    tasks = []
    for i in range(count):
        due = start + i / rate
        if (delay := due - time.perf_counter()) > 0:
            await asyncio.sleep(delay)
        max_lag = max(max_lag, time.perf_counter() - due)
        request = _request(tokens[i % len(tokens)], f"{run}-{i}")
        tasks.append(loop.create_task(one(idle.pop() if idle else None, request, due)))
    await asyncio.wait(tasks, timeout=30)
    elapsed = time.perf_counter() - start
    if unanswered := count - sum(statuses.values()):
        statuses[-1] = unanswered  # still waiting after 30 s: slower than any percentile shown
        latencies += [float("inf")] * unanswered
    latencies.sort()
    return {
        "rate": rate,
        "sent": count,
        "elapsed_s": elapsed,
        "statuses": dict(statuses),
        "percentiles_ms": {q: _quantile(latencies, q) * 1e3 for q in ("0.5", "0.99", "0.999")},
        "generator_cpu_us_per_request": (time.process_time() - cpu0) / count * 1e6,
        "generator_max_lag_ms": max_lag * 1e3,
    }


def _request(token: str, alert_id: str) -> bytes:
    body = (
        '{"action":"buy","ticker":"BINANCE:BTCUSDT","qty":"0.01","id":"%s"}' % alert_id  # noqa: UP031
    ).encode()
    head = (
        f"POST /webhooks/tv/{token} HTTP/1.1\r\nHost: ingress\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def _quantile(ordered: list[float], q: str) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(float(q) * len(ordered)))]


def generate_main(args: list[str]) -> None:
    """``generate RATE SECONDS PORT TOKENS_FILE``: run one step, print its figures as JSON."""
    rate, duration, port, tokens_file = float(args[0]), float(args[1]), int(args[2]), args[3]
    tokens = json.loads(Path(tokens_file).read_text())
    print(json.dumps(uvloop.run(_generate(rate, duration, port, tokens))))


# -- the orchestrator ---------------------------------------------------------------------------
async def _populate(topology: Topology) -> list[str]:
    """Create the namespace's streams and buckets, 1,000 tenants and a webhook each."""
    nc = await nats.connect(NATS_URL, connect_timeout=5)
    try:
        js = nc.jetstream()
        await ensure_topology(js, topology)
        tenants_kv = await js.key_value(topology.tenants_bucket)
        tokens_kv = await js.key_value(topology.webhook_tokens_bucket)
        limits = factories.plan_limits(max_alerts_per_hour=1_000_000_000)
        tokens = []
        for i in range(TENANTS):
            tenant = factories.tenant_record(f"bench-tenant-{i}", limits=limits)
            token = "whk_" + secrets.token_urlsafe(32)
            record = factories.webhook_record(tenant.tenant_id)
            await tenants_kv.put(tenant.tenant_id, tenant.model_dump_json().encode())
            await tokens_kv.put(secret_digest(token), record.model_dump_json().encode())
            tokens.append(token)
        return tokens
    finally:
        await nc.close()


async def _drop(topology: Topology) -> None:
    nc = await nats.connect(NATS_URL, connect_timeout=5)
    try:
        await delete_topology(nc.jetstream(), topology)
    finally:
        await nc.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _start_ingress(namespace: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "SPARKY_NAMESPACE": namespace,
        "SPARKY_NATS_URL": NATS_URL,
        "SPARKY_INGRESS_REDIS_URL": REDIS_URL,
        "SPARKY_INGRESS_RATE_LIMIT_KEY_PREFIX": f"{namespace}:",
        "SPARKY_HTTP_PORT": str(port),
    }
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "services.ingress"], cwd=ROOT, env=env, stderr=out
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit(f"ingress did not become ready; see {log}")


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _drained(port: int, timeout_s: float = 90) -> None:
    """Wait until ingress has answered everything a previous, overloaded step left queued."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                text = r.read().decode()
        except OSError:  # still swamped
            continue
        for line in text.splitlines():
            gauge = line.startswith("sparky_ingress_requests_in_flight ")
            if gauge and float(line.split()[-1]) == 0:
                return
        time.sleep(0.5)


def _step(rate: float, seconds: float, port: int, tokens_file: str, ingress: int) -> dict[str, Any]:
    _drained(port)
    load = os.getloadavg()[0]
    cpu0 = _cpu_s(ingress)
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [
            sys.executable,
            "-m",
            "benchmarks.bench_ingress",
            "generate",
            str(rate),
            str(seconds),
            str(port),
            tokens_file,
        ],
        cwd=ROOT,
        capture_output=True,
        check=True,
        timeout=seconds + 60,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    result["ingress_cpu_percent"] = (_cpu_s(ingress) - cpu0) / result["elapsed_s"] * 100
    result["load_average"] = load
    return result


def _print(result: dict[str, Any]) -> None:
    p = result["percentiles_ms"]
    accepted = result["statuses"].get("202", 0)
    others = {k: v for k, v in result["statuses"].items() if k != "202"}
    cpu_ms = result["ingress_cpu_percent"] * 10 * result["elapsed_s"] / max(accepted, 1)
    print(
        f"{result['rate']:>7,.0f}/s  accepted {accepted / result['elapsed_s']:>7,.0f}/s  "
        f"p50 {p['0.5']:6.2f} ms  p99 {p['0.99']:7.2f} ms  p99.9 {p['0.999']:7.2f} ms  "
        f"ingress CPU {result['ingress_cpu_percent']:3.0f}% ({cpu_ms:.2f} ms/alert)  "
        f"generator {result['generator_cpu_us_per_request']:.0f} µs/req "
        f"(lag max {result['generator_max_lag_ms']:.1f} ms)  other answers {others or '-'}  "
        f"[load {result['load_average']:.1f}]"
    )


def _passes(result: dict[str, Any]) -> bool:
    all_accepted = bool(result["statuses"].get("202", 0) == result["sent"])
    return all_accepted and float(result["percentiles_ms"]["0.99"]) < P99_BUDGET_MS


def run_benchmark(*, quick: bool = False) -> None:
    """Print the figures of every step and the highest rate within the p99 budget (``quick``:
    two rates, no search).
    """
    namespace = "bench" + secrets.token_hex(4)
    topology = Topology(namespace=namespace)
    tokens = asyncio.run(_populate(topology))
    port = _free_port()
    workdir = Path(tempfile.mkdtemp(prefix="sparky-bench-ingress-"))
    tokens_file = workdir / "tokens.json"
    tokens_file.write_text(json.dumps(tokens))
    ingress = _start_ingress(namespace, port, workdir / "ingress.log")
    try:
        print(
            f"== ingress: 1 process, {TENANTS} tenants, open-model load, {STEP_S:.0f} s per rate =="
        )
        _step(300, 3, port, str(tokens_file), ingress.pid)  # warm-up, not reported
        results: dict[float, dict[str, Any]] = {}
        for rate in QUICK_RATES if quick else RATES:
            results[rate] = _step(rate, STEP_S, port, str(tokens_file), ingress.pid)
            _print(results[rate])
        if not quick:
            best = _search(results, port, str(tokens_file), ingress.pid)
            print(f"highest rate with p99 < {P99_BUDGET_MS:.0f} ms: {best:,.0f} alerts/s")
    finally:
        ingress.terminate()
        ingress.wait(timeout=30)
        asyncio.run(_drop(topology))
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(match=f"{namespace}:*", count=1000))
        if keys:
            client.delete(*keys)
        shutil.rmtree(workdir)  # the tokens and the ingress log


def _search(results: dict[float, dict[str, Any]], port: int, tokens_file: str, pid: int) -> float:
    """Bisect between the highest passing and the lowest failing rate measured so far."""
    passing = [r for r, res in results.items() if _passes(res)]
    low = max(passing, default=0.0)
    high = min((r for r in results if r > low and not _passes(results[r])), default=low * 2)
    for _ in range(SEARCH_STEPS):
        rate = round((low + high) / 2 / 50) * 50
        if rate in (low, high):
            break
        result = _step(rate, STEP_S, port, tokens_file, pid)
        _print(result)
        low, high = (rate, high) if _passes(result) else (low, rate)
    return low


def main() -> None:
    if sys.argv[1:2] == ["generate"]:
        generate_main(sys.argv[2:])
    else:
        run_benchmark(quick="--quick" in sys.argv[1:])


if __name__ == "__main__":
    main()
