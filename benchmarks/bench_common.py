"""Benchmarks of the shared library: what every hop of the pipeline pays.

Run with ``make bench``. Prints figures; the ones we keep are in docs/benchmarks.md.
Needs NATS with JetStream at ``SPARKY_NATS_URL`` (default nats://127.0.0.1:4222).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import statistics
import time
from collections.abc import Callable

from libs.common.broker import make_broker, publish_message
from libs.common.config import ServiceSettings, load_settings
from libs.common.ids import new_id, partition
from libs.common.jetstream import delete_topology, ensure_topology
from libs.common.messages import OrderIntent, decode_event
from libs.common.passphrases import hash_passphrase, verify_passphrase
from libs.common.topology import Topology
from services.ingress.domain.passphrases import PassphraseCheck
from services.ingress.domain.webhook import Webhook
from tests import factories


def rate(label: str, fn: Callable[[], object], n: int) -> None:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    elapsed = time.perf_counter() - start
    print(f"{label:<44} {n / elapsed:>12,.0f} /s   {elapsed / n * 1e6:>8.2f} µs each")


def cpu_benchmarks() -> None:
    tenants = [new_id() for _ in range(1000)]
    it = iter(range(10**9))
    rate("partition(tenant, 16)", lambda: partition(tenants[next(it) % 1000], 16), 200_000)
    intent = factories.order_intent()
    payload = intent.to_json()
    rate("OrderIntent -> JSON", intent.to_json, 20_000)
    rate("JSON -> OrderIntent", lambda: OrderIntent.model_validate_json(payload), 20_000)
    filled = factories.every_event()[3].to_json()
    rate("JSON -> OrderFilled via decode_event", lambda: decode_event(filled), 20_000)
    passphrase_benchmarks()


def passphrase_benchmarks() -> None:
    """One slow check (a first alert, a wrong guess) and one remembered success."""
    stored = hash_passphrase("correct horse battery")
    rate("passphrase: scrypt check (n=2^14, r=8)", lambda: verify_passphrase("x", stored), 20)
    record = factories.webhook_record(new_id(), passphrase_hash=stored)
    hook = Webhook(record, factories.tenant_record(record.tenant_id))
    check = PassphraseCheck()
    asyncio.run(check.verify(hook, "correct horse battery"))
    rate(
        "passphrase: remembered success",
        lambda: check.pending(hook, "correct horse battery"),
        50_000,
    )


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000)[int(q * 1000) - 1]


async def publish_benchmark(n: int = 5000, in_flight: int = 64) -> None:
    url = os.environ.get("SPARKY_NATS_URL", "nats://127.0.0.1:4222")
    namespace = "bench" + secrets.token_hex(4)
    settings = load_settings(ServiceSettings, nats_url=url, namespace=namespace)
    topology = Topology.from_settings(settings)
    broker = make_broker(settings, "bench")
    await broker.connect()
    js = broker.config.connection_state.stream
    await ensure_topology(js, topology)
    intents = [factories.order_intent(tenant_id=f"t{i % 1000}") for i in range(n)]
    latencies: list[float] = []
    sem = asyncio.Semaphore(in_flight)

    async def one(intent: OrderIntent) -> None:
        async with sem:
            t0 = time.perf_counter()
            await publish_message(
                broker,
                topology.intent_subject(intent.tenant_id),
                intent,
                stream=topology.intents_stream,
                msg_id=intent.dedup_key + intent.intent_id,
            )
            latencies.append(time.perf_counter() - t0)

    try:
        start = time.perf_counter()
        await asyncio.gather(*(one(i) for i in intents))
        elapsed = time.perf_counter() - start
        print(
            f"{'JetStream publish+PubAck (dedup id), ' + str(in_flight) + ' in flight':<44} "
            f"{n / elapsed:>12,.0f} /s   p50 {percentile(latencies, 0.5) * 1e3:.2f} ms  "
            f"p99 {percentile(latencies, 0.99) * 1e3:.2f} ms"
        )
    finally:
        await delete_topology(js, topology)
        await broker.stop()


def main() -> None:
    print("== libs/common ==")
    cpu_benchmarks()
    asyncio.run(publish_benchmark(in_flight=1, n=2000))
    asyncio.run(publish_benchmark(in_flight=64))


if __name__ == "__main__":
    main()
