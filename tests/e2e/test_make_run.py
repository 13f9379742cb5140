"""`make run` as a developer uses it: start it, run the two commands it prints, press Ctrl-C.

``python -m scripts.run`` (the Makefile's command) runs against the machine's NATS, Postgres and
Redis, in the test's own namespace, database (created by it), data folder and ports; nothing
answers at its Vault URL, so it starts and initialises an OpenBao of its own. The printed alert
command must place an order at the paper exchange and the printed position command must show
the ledger's position; the printed web app login must sign in (made through the web app's
sign-up and the mail it sent); SIGINT must leave no process it started. A second run must reuse
the same demo tenant (its secrets were shown once), web login and vault (unsealed again).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import psutil
import redis.asyncio as aioredis

from libs.common.topology import Topology
from scripts.devstack import DEFAULT_PORTS, DEV_PAPER_ADMIN_TOKEN
from scripts.devstack import ROOT as REPO_ROOT
from scripts.leftovers import stop_leftovers
from scripts.mailbox import Mailbox
from scripts.private_files import read_private_json
from scripts.run import RunConfig, run_environ
from scripts.web_demo import WebLogin, signed_in
from tests.helpers.namespaces import drop_namespace_streams
from tests.helpers.polling import eventually
from tests.helpers.ports import free_port, free_ports
from tests.helpers.servers import ServerUrls

STARTUP_TIMEOUT_S = 180.0  # two shared cores, often busy with other test runs
READY_LINE = "Ctrl-C stops everything"


@dataclass
class Printed:
    """What a run printed up to its ready line."""

    text: str

    def value(self, label: str) -> str:
        line = next(ln for ln in self.text.splitlines() if ln.strip().startswith(label))
        return line.split()[-1]

    def commands(self) -> list[list[str]]:
        """The shell commands it told the developer to run, split as a shell would."""
        lines = self.text.splitlines()
        return [shlex.split(ln) for ln in lines if ln.strip().startswith("curl ")]


def run_env(urls: ServerUrls, namespace: str, data_dir: Path) -> dict[str, str]:
    database = urlunsplit(urlsplit(urls.postgres)._replace(path=f"/{namespace}"))
    rc = RunConfig(
        namespace=namespace,
        data_dir=data_dir,
        urls={
            "NATS": urls.nats,
            "Postgres": database,
            "Redis": urls.redis,
            "Vault": f"http://127.0.0.1:{free_port()}",
        },
        ports=dict(zip(DEFAULT_PORTS, free_ports(len(DEFAULT_PORTS)), strict=True)),
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPARKY_")}
    return env | run_environ(rc)


@asynccontextmanager
async def make_run(
    env: dict[str, str],
) -> AsyncIterator[tuple[asyncio.subprocess.Process, Printed]]:
    """Start ``scripts.run``, yield it once ready; afterwards, kill whatever still runs."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "scripts.run",
        cwd=REPO_ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        yield proc, await asyncio.wait_for(read_until_ready(proc), STARTUP_TIMEOUT_S)
    finally:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
        # What it started and could not stop (it failed or was killed), from its own record.
        stop_leftovers(Path(env["SPARKY_DEVSTACK_DIR"]))


async def read_until_ready(proc: asyncio.subprocess.Process) -> Printed:
    assert proc.stdout is not None
    seen: list[str] = []
    while READY_LINE not in (seen[-1] if seen else ""):
        line = await proc.stdout.readline()
        if not line:
            raise AssertionError("make run ended before it was ready:\n" + "".join(seen))
        seen.append(line.decode())
    return Printed("".join(seen))


async def interrupt(proc: asyncio.subprocess.Process) -> tuple[int, list[psutil.Process]]:
    """Ctrl-C: SIGINT; return the exit code and the processes it had started still alive."""
    children = psutil.Process(proc.pid).children(recursive=True)
    assert children  # the services and the OpenBao it started
    proc.send_signal(signal.SIGINT)
    assert proc.stdout is not None
    await asyncio.wait_for(proc.stdout.read(), 120)  # drain until it closes
    code = await proc.wait()
    _, alive = psutil.wait_procs(children, timeout=5)
    return code, alive


async def execute(command: list[str]) -> Any:
    """Run a printed curl command (with curl when there is one, else its HTTP equivalent)."""
    if shutil.which("curl"):
        done = await asyncio.create_subprocess_exec(*command, stdout=asyncio.subprocess.PIPE)
        out, _ = await done.communicate()
        assert done.returncode == 0
        return json.loads(out)
    headers = dict(command[i + 1].split(": ", 1) for i, word in enumerate(command) if word == "-H")
    body = command[command.index("-d") + 1].encode() if "-d" in command else None
    method = command[command.index("-X") + 1] if "-X" in command else "GET"
    url = next(word for word in command if word.startswith("http"))
    async with httpx.AsyncClient(timeout=10) as client:
        return (await client.request(method, url, headers=headers, content=body)).json()


def vault_started_here(printed: Printed) -> bool:
    line = next(ln for ln in printed.text.splitlines() if ln.strip().startswith("Vault "))
    return line.endswith("(started here)")


async def btc_position(command: list[str], symbol: str = "BTC/USDT") -> Decimal:
    positions = (await execute(command))["positions"]
    return sum((Decimal(p["quantity"]) for p in positions if p["symbol"] == symbol), Decimal(0))


async def wait_for_position(
    command: list[str],
    logs: Path,
    below: Decimal = Decimal("Infinity"),
    timeout_s: float = 60.0,
    symbol: str = "BTC/USDT",
) -> Decimal:
    """Wait until the BTC position is neither flat nor ``below``'s old value; return it."""
    try:
        return await eventually(
            lambda: btc_position(command, symbol),
            until=lambda quantity: quantity not in {Decimal(0), below},
            what=f"a new {symbol} position",
            timeout_s=timeout_s,
            interval_s=0.3,
        )
    except AssertionError as failure:
        raise AssertionError(f"{failure}\n{log_tails(logs)}") from None


def log_tails(logs: Path, lines: int = 12) -> str:
    """The end of each pipeline service's log, to tell where an alert stopped."""
    tails = []
    for service in ("ingress", "router", "executor", "ledger"):
        for path in logs.glob(f"*-{service}.log"):
            tails.append(f"--- {path.name}")
            tails += path.read_text(errors="replace").splitlines()[-lines:]
    return "\n".join(tails)


async def paper_btc(env: dict[str, str], data_dir: Path, namespace: str) -> Decimal:
    """The demo paper account's BTC balance, from the paper exchange's admin API."""
    demo = read_private_json(data_dir / f"demo-{namespace}.json")
    assert demo is not None
    url = f"http://127.0.0.1:{env['SPARKY_PAPER_HTTP_PORT']}/admin/accounts/"
    auth = {"Authorization": f"Bearer {DEV_PAPER_ADMIN_TOKEN}"}
    async with httpx.AsyncClient(timeout=10) as client:
        view = (await client.get(f"{url}{demo['paper_account_id']}", headers=auth)).json()
    return sum((Decimal(b["free"]) for b in view["balances"] if b["asset"] == "BTC"), Decimal(0))


async def web_login_works(printed: Printed) -> bool:
    """Whether the printed demo login signs in to the printed web app."""
    login = WebLogin(email=printed.value("demo login"), password=printed.value("password"))
    async with httpx.AsyncClient(timeout=10) as client:
        return await signed_in(client, printed.value("web app"), login)


async def notifier_mails_a_code(printed: Printed, mail: Path) -> bool:
    """Whether the printed notifier, Telegram off, mails a new email channel its code through
    the local mailbox (the demo tenant's API key adds the channel)."""
    assert "Telegram     off" in printed.text
    url, auth = printed.value("notifier"), {"Authorization": f"Bearer {printed.value('API key')}"}
    address = f"alerts-{secrets.token_hex(4)}@example.test"
    async with httpx.AsyncClient(timeout=10) as client:
        assert (await client.get(f"{url}/readyz")).status_code == 200
        body = {"kind": "email", "target": address}
        added = await client.post(f"{url}/api/v1/notifications/channels", json=body, headers=auth)
        assert added.status_code == 201, added.text
    mailbox = Mailbox(mail)  # read only: make run's own mailbox wrote the files
    found = await asyncio.to_thread(mailbox.wait_for, address, "", 30.0)
    return bool(re.search(r"\b\d{6}\b", found.text))


async def cleanup(urls: ServerUrls, namespace: str) -> None:
    await drop_namespace_streams(urls.nats, Topology(namespace=namespace))
    conn = await asyncpg.connect(urls.postgres)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{namespace}" WITH (FORCE)')
    finally:
        await conn.close()
    client = aioredis.Redis.from_url(urls.redis)
    keys = [key async for key in client.scan_iter(match=f"{namespace}:*", count=1000)]
    if keys:
        await client.delete(*keys)
    await client.aclose()


async def test_make_run_demo_alert_opens_a_position_and_ctrl_c_stops_everything(
    server_urls: ServerUrls, namespace: str, tmp_path: Path
) -> None:
    env = run_env(server_urls, namespace, tmp_path)
    try:
        async with make_run(env) as (proc, printed):
            assert vault_started_here(printed)
            alert, positions, perpetual = printed.commands()
            assert "/webhooks/tv/whk_" in printed.value("webhook URL")
            assert printed.value("API key").startswith("spk_")
            # The web app's demo trader was signed up and verified through its pages and mail.
            assert await web_login_works(printed)
            assert list((tmp_path / "mail").glob("*.eml"))
            assert await notifier_mails_a_code(printed, tmp_path / "mail")
            assert "intent_id" in await execute(alert)
            # 0.001 BTC bought, less the 0.1 % fee the exchange takes in BTC: what the wallet
            # holds, and what a close would sell.
            held = await wait_for_position(positions, tmp_path / "logs")
            assert held == Decimal("0.000999") == await paper_btc(env, tmp_path, namespace)
            # The perpetual with its exits, on the demo's futures account.
            assert "intent_id" in await execute(perpetual)
            long = await wait_for_position(positions, tmp_path / "logs", symbol="BTC/USDT:USDT")
            assert long == Decimal("0.01")
            code, alive = await interrupt(proc)
        assert (code, alive) == (0, [])

        async with make_run(env) as (proc, again):
            assert again.value("API key") == printed.value("API key")
            assert again.value("webhook URL") == printed.value("webhook URL")
            assert again.value("demo login") == printed.value("demo login")
            assert await web_login_works(again)
            assert vault_started_here(again)
            assert await btc_position(again.commands()[1]) == Decimal("0.000999")
            # Placing an order reads the account's keys from the reopened, unsealed vault.
            async with httpx.AsyncClient(timeout=10) as client:
                sold = await client.post(again.value("webhook URL"), content=b"sell BTCUSDT 0.0005")
            assert sold.status_code == 202
            after = await wait_for_position(
                again.commands()[1], tmp_path / "logs", Decimal("0.000999")
            )
            assert after == Decimal("0.000499") == await paper_btc(env, tmp_path, namespace)
            code, alive = await interrupt(proc)
        assert (code, alive) == (0, [])
    finally:
        await cleanup(server_urls, namespace)
