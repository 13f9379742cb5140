"""Run Sparky's services as local processes: the one way `make run` and the tests start them.

`service_env` decides every service's environment from one `StackConfig` (where NATS,
Postgres, Redis and Vault are, which namespace, which ports); `ServiceProcess` runs
``python -m services.<name>`` with it (``accounts``, the exchange-accounts API, runs the
executor's code in its accounts role), waits for ``/readyz``, and stops it with SIGTERM (or
kills it with SIGKILL, for crash tests). Nothing here starts the infrastructure itself: `make
run` does that (`scripts.run`, `scripts.infra`), the tests use the machine's servers.

The development tokens below are the services' own development defaults (billing's
``DEV_OPERATOR_TOKEN``, the paper exchange's ``DEV_ADMIN_TOKEN``, the order signing keys of
``libs.common.signing``), repeated here so that starting a stack imports no service code;
``tests/unit/scripts`` checks that they agree. The order signing keys are handed to their
issuers (the router, the ledger) and to the executor that verifies them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
# Start order: the exchange and the account system first, the consumers last.
SERVICES = (
    "paper",
    "billing",
    "accounts",
    "ingress",
    "router",
    "executor",
    "ledger",
    "notifier",
    "web",
)
DEFAULT_PORTS: Mapping[str, int] = {
    "billing": 8101,
    "ingress": 8102,
    "router": 8103,
    "executor": 8104,
    "ledger": 8105,
    "paper": 8106,
    "accounts": 8107,
    "web": 8108,
    "notifier": 8109,
}
# Processes that run another service's code in a role of their own, as in production: the
# exchange-accounts API is the executor's code (`SPARKY_EXECUTOR_ROLE=accounts`).
PROGRAMS: Mapping[str, str] = {"accounts": "executor"}
ROLES: Mapping[str, str] = {"executor": "trading", "accounts": "accounts"}
# The services the web app calls as the signed-in tenant (SPARKY_WEB_<NAME>_URL).
WEB_CALLS = ("billing", "router", "ledger", "accounts", "ingress", "notifier")
# The services the notifier calls as a tenant, with the API key it holds for each tenant
# (SPARKY_NOTIFIER_<NAME>_URL: the Telegram bot's answers, signal posts through ingress).
NOTIFIER_CALLS = ("billing", "router", "ledger", "ingress", "accounts")
DEV_OPERATOR_TOKEN = "sop_development-only-operator-token"  # noqa: S105 - billing's dev default
DEV_PAPER_ADMIN_TOKEN = "sop_paper-dev-admin-token-change-me"  # noqa: S105 - the paper one's
DEV_ROUTER_ORDER_KEY = "development-only-router-order-signing-key"
DEV_LEDGER_ORDER_KEY = "development-only-ledger-order-signing-key"
# Billing's sign-up credential, which the web app presents (the two services' dev defaults).
DEV_SIGNUP_TOKEN = "ssu_development-only-signup-token"  # noqa: S105
# The web app's key for what it keeps encrypted (tenant API keys, webhook tokens, TOTP secrets).
DEV_WEB_DATA_KEY = "development-only-web-data-key-not-a-secret"
# The notifier's key for what it keeps sealed (webhook signing keys, its tenant API keys).
DEV_NOTIFIER_DATA_KEY = "development-only-notifier-data-key-not-a-secret"


@dataclass(frozen=True)
class Infra:
    """Where the infrastructure is (already running)."""

    nats_url: str = "nats://127.0.0.1:4222"
    database_url: str = "postgresql://postgres@127.0.0.1:5432/sparky"
    # The login that owns the schemas and migrates them; empty: database_url (the tests').
    migration_database_url: str = ""
    redis_url: str = "redis://127.0.0.1:6379/0"
    vault_url: str = "http://127.0.0.1:8200"
    vault_token: str = ""
    nats_passwords: Mapping[str, str] | None = None
    """Each NATS user's password when NATS runs with the users of `libs.common.nats_access`
    (each service then connects as itself); None: a NATS without users."""

    @property
    def admin_nats_url(self) -> str:
        """The NATS URL with the ``admin`` user's credentials in it, for set-up and inspection
        (never given to a service)."""
        if not self.nats_passwords:
            return self.nats_url
        scheme, _, rest = self.nats_url.partition("://")
        return f"{scheme}://admin:{self.nats_passwords['admin']}@{rest}"


@dataclass(frozen=True)
class StackConfig:
    """One stack: its infrastructure, namespace, data folder and ports."""

    infra: Infra
    namespace: str = "sparky"
    data_dir: Path = ROOT / ".devstack"
    host: str = "127.0.0.1"
    ports: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_PORTS))
    schema_prefix: str = ""  # tests: "<namespace>_", so schemas never collide
    operator_token: str = DEV_OPERATOR_TOKEN
    paper_admin_token: str = DEV_PAPER_ADMIN_TOKEN
    router_order_key: str = DEV_ROUTER_ORDER_KEY
    ledger_order_key: str = DEV_LEDGER_ORDER_KEY
    signup_token: str = DEV_SIGNUP_TOKEN
    web_data_key: str = DEV_WEB_DATA_KEY
    notifier_data_key: str = DEV_NOTIFIER_DATA_KEY
    smtp_port: int = 0  # the local mailbox (`scripts.mailbox`) the web app and notifier use
    extra_env: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def url(self, service: str) -> str:
        return f"http://{self.host}:{self.ports[service]}"

    def schema(self, service: str) -> str:
        return f"{self.schema_prefix}{service}"


def _shared_env(cfg: StackConfig) -> dict[str, str]:
    infra = cfg.infra
    migration = {"SPARKY_MIGRATION_DATABASE_URL": infra.migration_database_url}
    return (migration if infra.migration_database_url else {}) | {
        "SPARKY_ENVIRONMENT": "dev",
        "SPARKY_NAMESPACE": cfg.namespace,
        "SPARKY_NATS_URL": infra.nats_url,
        "SPARKY_DATABASE_URL": infra.database_url,
        "SPARKY_REDIS_URL": infra.redis_url,
        "SPARKY_HTTP_HOST": cfg.host,
        "SPARKY_LOG_JSON": "true",
    }


def program(service: str) -> str:
    """Return the service whose code ``service`` runs (``services.<program>``)."""
    return PROGRAMS.get(service, service)


def _own_env(service: str, cfg: StackConfig) -> dict[str, str]:
    code = program(service)
    prefix = f"SPARKY_{code.upper()}_"
    own = {"HTTP_PORT": str(cfg.ports[service]), "DATABASE_SCHEMA": cfg.schema(code)}
    if service == "billing":
        own |= {
            "OPERATOR_TOKEN": cfg.operator_token,
            "SIGNUP_TOKEN": cfg.signup_token,
            "PUBLIC_BASE_URL": cfg.url("ingress"),
        }
    elif service == "ingress":
        own |= {"RATE_LIMIT_KEY_PREFIX": f"{cfg.namespace}:ingress:"}
    elif service == "router":
        own |= {
            "REDIS_PREFIX": f"{cfg.namespace}:router:",
            "ORDER_SIGNING_KEY": cfg.router_order_key,
        }
    elif service == "ledger":
        own |= {"ORDER_SIGNING_KEY": cfg.ledger_order_key}
    elif code == "executor":
        own |= {
            "ROLE": ROLES[service],
            "ORDER_VERIFY_KEY_ROUTER": cfg.router_order_key,
            "ORDER_VERIFY_KEY_LEDGER": cfg.ledger_order_key,
            "VAULT_URL": cfg.infra.vault_url,
            "VAULT_AUTH": "token",
            "VAULT_TOKEN": cfg.infra.vault_token,
            "VAULT_PREFIX": "sparky",  # the executor adds the namespace below it
            "PAPER_EXCHANGE_URL": cfg.url("paper"),
        }
        if service == "accounts":  # tenants open paper accounts themselves through it
            own |= {"PAPER_ADMIN_TOKEN": cfg.paper_admin_token}
    elif service == "paper":
        own |= {
            "STATE_PATH": str(cfg.data_dir / f"paper-{cfg.namespace}.sqlite3"),
            "ADMIN_TOKEN": cfg.paper_admin_token,
        }
    elif service == "web":
        own |= _web_env(cfg)
    elif service == "notifier":
        own |= _notifier_env(cfg)
    own |= dict(cfg.extra_env.get(service, {}))
    return {prefix + key: value for key, value in own.items()}


def _web_env(cfg: StackConfig) -> dict[str, str]:
    """The web app: the APIs it calls as the signed-in tenant, billing's sign-up credential,
    its data key, and the local mailbox as its SMTP server (plain: it is on loopback)."""
    apis = {f"{name.upper()}_URL": cfg.url(name) for name in WEB_CALLS}
    return (
        apis
        | {
            "PUBLIC_URL": cfg.url("web"),
            "WEBHOOK_BASE_URL": cfg.url("ingress"),
            "SIGNUP_TOKEN": cfg.signup_token,
            "DATA_KEY": cfg.web_data_key,
            "COOKIE_SECURE": "false",
        }
        | (_mailbox_env(cfg) if cfg.smtp_port else {})
    )


def _notifier_env(cfg: StackConfig) -> dict[str, str]:
    """The notifier: the APIs it calls as a tenant, its data key, the local mailbox as its SMTP
    server. Every other channel stays off until configured: no Telegram bot token here (set
    ``SPARKY_NOTIFIER_TELEGRAM_BOT_TOKEN`` in ``extra_env`` to turn the bot on)."""
    apis = {f"{name.upper()}_URL": cfg.url(name) for name in NOTIFIER_CALLS}
    # A developer's own webhook receiver is on this machine, over plain HTTP (both refused in
    # production, where the notifier must never be aimed inside the cluster).
    local = {"WEBHOOK_ALLOW_HTTP": "true", "WEBHOOK_ALLOW_PRIVATE": "true"}
    own = apis | local | {"DATA_KEY": cfg.notifier_data_key}
    return own | (_mailbox_env(cfg) if cfg.smtp_port else {})


def _mailbox_env(cfg: StackConfig) -> dict[str, str]:
    return {
        "SMTP_HOST": cfg.host,
        "SMTP_PORT": str(cfg.smtp_port),
        "SMTP_SECURITY": "none",
        "MAIL_FROM": "Sparky <sparky@localhost>",
    }


def _nats_user_env(service: str, cfg: StackConfig) -> dict[str, str]:
    passwords = cfg.infra.nats_passwords
    if passwords is None or service not in passwords:
        return {}
    return {"SPARKY_NATS_USER": service, "SPARKY_NATS_PASSWORD": passwords[service]}


def service_env(service: str, cfg: StackConfig) -> dict[str, str]:
    """Return the ``SPARKY_*`` variables ``service`` runs with in this stack."""
    return _shared_env(cfg) | _nats_user_env(service, cfg) | _own_env(service, cfg)


def process_env(service: str, cfg: StackConfig) -> dict[str, str]:
    """Return the whole environment of ``service``'s process: this one's, less its
    ``SPARKY_*`` variables (a developer's own must not leak into a stack), plus the stack's."""
    own = {k: v for k, v in os.environ.items() if not k.startswith("SPARKY_")}
    return own | service_env(service, cfg)


def command(service: str, *args: str) -> list[str]:
    """Return the command line of ``service``'s program (``python -m services.<program>``)."""
    return [sys.executable, "-m", f"services.{program(service)}", *args]


def run_command(
    service: str, cfg: StackConfig, *args: str, timeout_s: float = 90.0
) -> subprocess.CompletedProcess[str]:
    """Run one of ``service``'s commands (``python -m services.<program> <args>``) with the
    environment it has in this stack, and return how it ended (output captured, as text)."""
    return subprocess.run(
        command(service, *args),
        cwd=ROOT,
        env=process_env(service, cfg),
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


class ServiceProcess:
    """One service as a child process, its output in ``<data_dir>/logs/<name>.log``.

    ``new_session`` puts it in a session of its own, out of reach of the terminal's Ctrl-C, for
    a parent that stops its children itself in order (`make run`).
    """

    def __init__(self, service: str, cfg: StackConfig, *, new_session: bool = False) -> None:
        self.service = service
        self.cfg = cfg
        self.new_session = new_session
        self.url = cfg.url(service)
        self.port = cfg.ports[service]
        self.log_path = cfg.data_dir / "logs" / f"{cfg.namespace}-{service}.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def exit_code(self) -> int | None:
        """None while it runs (or before it started), else how it ended."""
        return self._proc.poll() if self._proc else None

    def start(self) -> None:
        """Start the process (appending to its log)."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self._proc = subprocess.Popen(
            command(self.service),
            cwd=ROOT,
            env=process_env(self.service, self.cfg),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=self.new_session,
        )

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        """Wait until ``/readyz`` answers 200; raise with the log's tail if it never does."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                raise RuntimeError(
                    f"{self.service} exited ({self._proc.returncode}):\n{self.tail()}"
                )
            try:
                with urllib.request.urlopen(f"{self.url}/readyz", timeout=2) as resp:  # noqa: S310
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.service} not ready in {timeout_s} s:\n{self.tail()}")

    def stop(self, timeout_s: float = 20.0) -> int | None:
        """SIGTERM, then SIGKILL after ``timeout_s``; return the exit code."""
        if self._proc is None:
            return None
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        return self._close()

    def kill(self) -> int | None:
        """SIGKILL at once, as a crash would."""
        if self._proc is None:
            return None
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        return self._close()

    def send_signal(self, signum: int) -> None:
        """Send ``signum`` to the running process (a test's own shutdown or crash)."""
        if self._proc is not None:
            self._proc.send_signal(signum)

    def wait(self, timeout_s: float = 30.0) -> int | None:
        """Wait until the process ends (after `signal`); return its exit code."""
        if self._proc is None:
            return None
        self._proc.wait(timeout=timeout_s)
        return self._close()

    def log(self) -> str:
        """Return everything the service has logged in this stack."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def _close(self) -> int | None:
        code = self._proc.returncode if self._proc else None
        self._proc = None
        if self._log is not None:
            self._log.close()
            self._log = None
        return code

    def tail(self, lines: int = 40) -> str:
        """Return the last lines of the service's log."""
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


class Stack:
    """Several services of one `StackConfig`, started in dependency order."""

    def __init__(
        self, cfg: StackConfig, services: tuple[str, ...] = SERVICES, *, new_session: bool = False
    ) -> None:
        self.cfg = cfg
        self.processes = {
            name: ServiceProcess(name, cfg, new_session=new_session) for name in services
        }

    def __getitem__(self, service: str) -> ServiceProcess:
        return self.processes[service]

    def start(self, timeout_s: float = 90.0) -> None:
        """Start every service, each ready before the next starts."""
        for proc in self.processes.values():
            proc.start()
            proc.wait_ready(timeout_s)

    def launch(self) -> None:
        """Start every service at once, without waiting (then `wait_ready`).

        On two cores this takes half the time of `start`: no service needs another one up to
        start, and their imports overlap with each other's waits.
        """
        for proc in self.processes.values():
            proc.start()

    def wait_ready(self, timeout_s: float = 90.0) -> None:
        """Wait until every service answers ``/readyz``."""
        for proc in self.processes.values():
            proc.wait_ready(timeout_s)

    def stop(self) -> None:
        """Stop every service, consumers first."""
        for proc in reversed(list(self.processes.values())):
            proc.stop()
