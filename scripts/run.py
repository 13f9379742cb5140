"""`make run`: check the infrastructure, create the NATS topology, start every service.

A service takes part once it has a ``services/<name>/__main__.py``; each runs as its own
process (``python -m services.<name>``) on its own port, with its output prefixed by its name.
Ctrl-C stops every process this script started, and nothing else.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path

import nats

from libs.common.config import ServiceSettings, load_settings
from libs.common.jetstream import ensure_topology
from libs.common.topology import Topology
from scripts.devstack import DEFAULT_PORTS

ROOT = Path(__file__).resolve().parent.parent


async def prepare(settings: ServiceSettings) -> None:
    """Fail with a clear message when NATS is missing; create the streams and buckets."""
    try:
        nc = await nats.connect(settings.nats_url, connect_timeout=3, max_reconnect_attempts=0)
    except Exception as exc:
        raise SystemExit(
            f"NATS is not answering at {settings.nats_url} ({exc}). Start nats-server with "
            "JetStream (-js) or set SPARKY_NATS_URL."
        ) from exc
    try:
        await ensure_topology(nc.jetstream(), Topology.from_settings(settings))
    finally:
        await nc.close()
    print(f"run: NATS ready at {settings.nats_url}, namespace {settings.namespace!r}")


async def pipe(name: str, stream: asyncio.StreamReader) -> None:
    async for line in stream:
        sys.stdout.write(f"{name:>9} | {line.decode(errors='replace')}")


async def start(name: str, port: int) -> asyncio.subprocess.Process:
    env = {**os.environ, f"SPARKY_{name.upper()}_HTTP_PORT": str(port)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        f"services.{name}",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    if proc.stdout is None:
        raise RuntimeError(f"{name}: no output pipe")
    asyncio.get_running_loop().create_task(pipe(name, proc.stdout))
    print(f"run: {name} started on http://127.0.0.1:{port} (pid {proc.pid})")
    return proc


async def main() -> None:
    settings = load_settings(ServiceSettings)
    await prepare(settings)
    runnable = [s for s in DEFAULT_PORTS if (ROOT / "services" / s / "__main__.py").exists()]
    if not runnable:
        print("run: no service is runnable yet; infrastructure and topology are ready.")
        return
    procs = [await start(name, DEFAULT_PORTS[name]) for name in runnable]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    waiters = [asyncio.create_task(p.wait()) for p in procs]
    stopper = asyncio.create_task(stop.wait())
    await asyncio.wait([stopper, *waiters], return_when=asyncio.FIRST_COMPLETED)
    print("run: stopping every process started here")
    for proc in procs:
        if proc.returncode is None:
            proc.terminate()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.gather(*(p.wait() for p in procs)), 15)
    for proc in procs:
        if proc.returncode is None:
            proc.kill()


if __name__ == "__main__":
    asyncio.run(main())
