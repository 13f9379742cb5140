"""`make run`: the whole stack on this machine, with a demo tenant, in one command.

1. NATS (JetStream), Postgres, Redis and Vault: taken from their URLs when something answers
   there, else started here from pip-installed binaries (`scripts.servers`).
2. The database (created if missing), the deployment's two logins and its roles
   (`libs.common.db_logins`: a migration login that owns the schemas, a runtime login that
   owns nothing), and the NATS streams and buckets; every service migrates its own schema
   when it starts, with the migration login, then works as the runtime login.
3. Every service and the paper exchange, as `scripts.devstack.Stack` starts them for the
   end-to-end tests, each ready before the next.
4. A demo tenant with a paper account (`scripts.demo`), and how to use it: its webhook URL,
   its API key, a ``curl`` that sends an alert and one that shows the position.
5. The web app's URL and a demo login, signed up through the web app's own pages and verified
   through the mail it sent to the local mailbox (`scripts.web_demo`, `scripts.mailbox`: every
   message the web app sends is kept as ``<data>/mail/<n>.eml``).
6. The notifier, its channels off until configured: email goes to the same local mailbox;
   Telegram is on only when ``SPARKY_NOTIFIER_TELEGRAM_BOT_TOKEN`` is set in the environment
   (with ``…_TELEGRAM_BOT_USERNAME``, ``…_TELEGRAM_API_URL``, ``…_TELEGRAM_MODE`` and, in
   webhook mode, ``…_TELEGRAM_WEBHOOK_SECRET`` and ``…_TELEGRAM_WEBHOOK_URL``), which
   `make run` passes to the notifier alone.

Everything it keeps is under one folder (``.devstack/``, or ``SPARKY_DEVSTACK_DIR``); a second
run reuses it. Ctrl-C (or SIGTERM) stops the services, then the servers started here, and
nothing else. Settings come from the environment: ``SPARKY_NATS_URL``, ``SPARKY_DATABASE_URL``,
``SPARKY_REDIS_URL``, ``SPARKY_VAULT_URL`` (+ ``SPARKY_VAULT_TOKEN``), ``SPARKY_NAMESPACE``,
``SPARKY_DEVSTACK_DIR`` and ``SPARKY_<SERVICE>_HTTP_PORT``.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import shlex
import signal
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import FrameType

import httpx

from libs.common.nats_access import ADMIN
from scripts.demo import DemoTenant, ensure_demo, webhook_url
from scripts.devstack import DEFAULT_PORTS, ROOT, Infra, Stack, StackConfig
from scripts.infra import answers
from scripts.leftovers import forget, remember, stop_leftovers
from scripts.mailbox import Mailbox
from scripts.servers import (
    Servers,
    bring_up,
    ensure_database,
    ensure_logins,
    ensure_nats_topology,
)
from scripts.web_demo import WebLogin, ensure_web_demo

DEMO_ALERT = {"action": "buy", "ticker": "BINANCE:BTCUSDT", "qty": "0.001", "strategy": "demo"}
# The notifier's channel settings `make run` takes from its own environment (every other
# SPARKY_* variable of the shell is withheld from the services).
NOTIFIER_PASSED = (
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_BOT_USERNAME",
    "TELEGRAM_API_URL",
    "TELEGRAM_MODE",
    "TELEGRAM_WEBHOOK_SECRET",
    "TELEGRAM_WEBHOOK_URL",
)


@dataclass(frozen=True)
class RunConfig:
    """What one `make run` is asked for, read from the environment."""

    namespace: str = "sparky"
    data_dir: Path = ROOT / ".devstack"
    urls: Mapping[str, str] = field(default_factory=dict)
    vault_token: str = ""
    ports: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_PORTS))
    notifier: Mapping[str, str] = field(default_factory=dict)  # NOTIFIER_PASSED that were set


def run_config(environ: Mapping[str, str]) -> RunConfig:
    """Read the run's settings from ``environ`` (defaults: the local standard ports)."""
    defaults = Infra()
    urls = {
        "NATS": environ.get("SPARKY_NATS_URL", defaults.nats_url),
        "Postgres": environ.get("SPARKY_DATABASE_URL", defaults.database_url),
        "Redis": environ.get("SPARKY_REDIS_URL", defaults.redis_url),
        "Vault": environ.get("SPARKY_VAULT_URL", defaults.vault_url),
    }
    ports = {
        name: int(environ.get(f"SPARKY_{name.upper()}_HTTP_PORT", port))
        for name, port in DEFAULT_PORTS.items()
    }
    data_dir = Path(environ.get("SPARKY_DEVSTACK_DIR", ROOT / ".devstack")).resolve()
    return RunConfig(
        namespace=environ.get("SPARKY_NAMESPACE", "sparky"),
        data_dir=data_dir,
        urls=urls,
        vault_token=environ.get("SPARKY_VAULT_TOKEN", ""),
        ports=ports,
        notifier={
            name: environ[f"SPARKY_NOTIFIER_{name}"]
            for name in NOTIFIER_PASSED
            if environ.get(f"SPARKY_NOTIFIER_{name}")
        },
    )


def run_environ(rc: RunConfig) -> dict[str, str]:
    """Return the ``SPARKY_*`` variables that ask `make run` for ``rc`` (`run_config`'s
    inverse: a second run side by side, as `tests/e2e/test_make_run.py` starts one)."""
    names = {
        "NATS": "NATS_URL",
        "Postgres": "DATABASE_URL",
        "Redis": "REDIS_URL",
        "Vault": "VAULT_URL",
    }
    environ = {f"SPARKY_{names[kind]}": url for kind, url in rc.urls.items()}
    environ |= {f"SPARKY_{name.upper()}_HTTP_PORT": str(port) for name, port in rc.ports.items()}
    environ |= {f"SPARKY_NOTIFIER_{name}": value for name, value in rc.notifier.items()}
    environ |= {"SPARKY_NAMESPACE": rc.namespace, "SPARKY_DEVSTACK_DIR": str(rc.data_dir)}
    return environ | ({"SPARKY_VAULT_TOKEN": rc.vault_token} if rc.vault_token else {})


def check_ports_free(ports: Mapping[str, int]) -> None:
    """Refuse to start when a service's port is taken (another `make run`, most likely)."""
    for name, port in ports.items():
        if answers("127.0.0.1", port):
            raise SystemExit(
                f"Port {port}, where {name} should listen, is in use: is another `make run` "
                f"running? Stop it, or set SPARKY_{name.upper()}_HTTP_PORT to a free port."
            )


def curl_commands(cfg: StackConfig, demo: DemoTenant) -> tuple[str, str]:
    """Return the two commands the banner prints: send an alert, show the positions."""
    alert = shlex.join(
        [
            "curl", "-sS", "-X", "POST", webhook_url(cfg, demo),
            "-H", "Content-Type: application/json",
            "-d", json.dumps(DEMO_ALERT),
        ]
    )  # fmt: skip
    auth = f"Authorization: Bearer {demo.api_key}"
    positions = shlex.join(["curl", "-sS", "-H", auth, f"{cfg.url('ledger')}/api/v1/positions"])
    return alert, positions


def web_lines(cfg: StackConfig, mailbox: Mailbox, login: WebLogin) -> list[str]:
    """The banner's part about the web app: where it is, a login, where its mail goes."""
    return [
        "",
        "The trader's web app (sign in, then open a paper account in the onboarding page):",
        f"  web app      {cfg.url('web')}",
        f"  demo login   {login.email}",
        f"  password     {login.password}",
        f"  mail         every message it sends is in {mailbox.folder}/<n>.eml",
        f"               (SMTP 127.0.0.1:{mailbox.port}; list: python -m scripts.mailbox "
        f"{mailbox.folder})",
    ]


def notifier_lines(cfg: StackConfig, rc: RunConfig) -> list[str]:
    """The banner's part about the notifier: which channels are on."""
    telegram = (
        "on (SPARKY_NOTIFIER_TELEGRAM_BOT_TOKEN is set)"
        if rc.notifier.get("TELEGRAM_BOT_TOKEN")
        else "off: set SPARKY_NOTIFIER_TELEGRAM_BOT_TOKEN (and _BOT_USERNAME) to turn it on"
    )
    return [
        "",
        f"Notifications ({cfg.url('notifier')}; channels at {cfg.url('web')}"
        "/account/notifications):",
        "  email        to the local mailbox above; Discord and signed webhooks: any URL",
        f"  Telegram     {telegram}",
    ]


def banner(
    cfg: StackConfig, servers: Servers, demo: DemoTenant, web: list[str] | None = None
) -> str:
    """Return what the trader-to-be reads once everything runs."""
    alert, positions = curl_commands(cfg, demo)
    lines = [
        "",
        f"Sparky is running (namespace {cfg.namespace!r}; data and logs in {cfg.data_dir})",
    ]
    lines += [f"  {kind:<9} {url} ({servers.origin(kind)})" for kind, url in servers.urls.items()]
    lines += [f"  {name:<9} {cfg.url(name)}" for name in cfg.ports]
    lines += web or []
    lines += [
        "",
        f"Demo tenant {demo.tenant_id}, with a paper account 'main' (opened with 10,000 USDT)",
        "and a paper futures account 'futures' (10,000 USDT of margin):",
        f"  webhook URL  {webhook_url(cfg, demo)}",
        f"  API key      {demo.api_key}",
        "",
        "Send an alert (TradingView's JSON; the same body again within 60 s counts as a resend):",
        f"  {alert}",
        "",
        "Then see the position it opened (the ledger):",
        f"  {positions}",
        "",
        "Perpetuals with a take-profit and a stop-loss, as one line of text:",
        f"  curl -sS -X POST {webhook_url(cfg, demo)} -d "
        "'buy BINANCE:BTCUSDT.P 0.01 tp=2% sl=1% leverage=5 account=futures'",
        "",
        "Ctrl-C stops everything `make run` started.",
        "",
    ]
    return "\n".join(lines)


def watch(stack: Stack, servers: Servers) -> int:
    """Wait for Ctrl-C; if a process dies first, say which and return 1."""
    while True:
        for proc in stack.processes.values():
            if proc.exit_code is not None:
                print(f"run: {proc.service} exited by itself (code {proc.exit_code}):")
                print(proc.tail())
                return 1
        for server in servers.started:
            if server.exit_code is not None:
                print(f"run: {server.name} exited by itself (code {server.exit_code}):")
                print(server.tail())
                return 1
        time.sleep(0.5)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def start_everything(
    rc: RunConfig, servers: Servers, mailbox: Mailbox
) -> tuple[Stack, StackConfig]:
    """Steps 1 to 3: the stack is returned unstarted, for the caller to stop whatever happens."""
    try:
        bring_up(rc.urls, rc.vault_token, servers, rc.namespace)
    finally:
        remember(rc.data_dir, servers.pids())
    infra = servers.infra()
    if asyncio.run(ensure_database(infra.database_url)):
        print(f"run: created the database of {infra.database_url}")
    # The services run as a runtime login that owns nothing; each migrates its schema at
    # start-up with the migration login (the chart's Jobs do that step in a cluster).
    runtime, migration = asyncio.run(ensure_logins(infra.database_url, rc.namespace))
    infra = replace(infra, database_url=runtime, migration_database_url=migration)
    admin = (infra.nats_passwords or {}).get(ADMIN)
    asyncio.run(ensure_nats_topology(infra.nats_url, rc.namespace, admin))
    cfg = StackConfig(
        infra=infra,
        namespace=rc.namespace,
        data_dir=rc.data_dir,
        ports=rc.ports,
        smtp_port=mailbox.port,
        extra_env={"notifier": dict(rc.notifier)},
    )
    return Stack(cfg, new_session=True), cfg


def main() -> int:
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)  # progress shows at once, even in a pipe
    rc = run_config(os.environ)
    rc.data_dir.mkdir(parents=True, exist_ok=True)
    if left := stop_leftovers(rc.data_dir):
        print(f"run: ended what a killed earlier run had left running: {', '.join(left)}")
    check_ports_free(rc.ports)
    # Both, explicitly: a shell starting us in the background may have set SIGINT to ignored.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    servers = Servers(data_dir=rc.data_dir)
    mailbox = Mailbox(rc.data_dir / "mail")
    stack: Stack | None = None
    try:
        mailbox.start()
        stack, cfg = start_everything(rc, servers, mailbox)
        print(f"run: starting {', '.join(stack.processes)} (logs in {rc.data_dir / 'logs'})")
        stack.launch()
        remember(rc.data_dir, [*(p.pid for p in stack.processes.values()), *servers.pids()])
        stack.wait_ready()
        demo = asyncio.run(ensure_demo(cfg))
        login = asyncio.run(ensure_web_demo(cfg, mailbox))
        extra = web_lines(cfg, mailbox, login) + notifier_lines(cfg, rc)
        print(banner(cfg, servers, demo, extra), flush=True)
        return watch(stack, servers)
    except KeyboardInterrupt:
        return 0
    except (RuntimeError, OSError, httpx.HTTPError) as exc:
        print(f"run: {exc}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("run: stopping every process started here…", flush=True)
        if stack is not None:
            stack.stop()
        servers.stop()
        mailbox.stop()
        forget(rc.data_dir)
        print("run: stopped", flush=True)


if __name__ == "__main__":
    sys.exit(main())
