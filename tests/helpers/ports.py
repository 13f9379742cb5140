"""Free loopback ports, and a private nats-server a test may stop and start at will."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from pathlib import Path


def free_port() -> int:
    """Return a TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def free_ports(n: int) -> list[int]:
    """Return ``n`` distinct free loopback ports."""
    sockets = [socket.socket() for _ in range(n)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


class PrivateNats:
    """A nats-server with JetStream of the test's own (never the shared one), to kill; with
    ``authorization`` (`libs.common.nats_access.server_config`) only its users get in.
    """

    def __init__(self, store: Path, authorization: str | None = None) -> None:
        self.port = free_port()
        self.store = store
        self.authorization = authorization
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.store.with_name(f"{self.store.name}.log")

    def refusals(self) -> list[str]:
        """The server's log lines of refused publishes and subscriptions (with users only)."""
        if not self.log_path.exists():
            return []
        lines = self.log_path.read_text(errors="replace").splitlines()
        return [line for line in lines if "Permissions Violation" in line]

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

    def start(self) -> None:
        """Start the server (again, on the same port and store) and wait for it to listen."""
        binary = Path(sys.executable).parent / "nats-server"
        args = [str(binary), "-js", "-a", "127.0.0.1", "-p", str(self.port), "-sd", str(self.store)]
        if self.authorization is not None:
            config = self.store.with_name(f"{self.store.name}-authorization.conf")
            config.write_text(self.authorization)
            args += ["-c", str(config), "-l", str(self.log_path)]
        self._proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), 0.2),
            ):
                return
            time.sleep(0.05)
        raise RuntimeError("private nats-server did not start")

    def stop(self) -> None:
        """Stop the server gracefully (SIGTERM)."""
        if self._proc is not None:
            self._proc.terminate()
            self._proc.wait(timeout=10)
            self._proc = None

    def kill(self) -> None:
        """Stop the server at once, as a crash would."""
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait(timeout=10)
            self._proc = None
