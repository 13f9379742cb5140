"""Free loopback ports, and a private nats-server a test may stop, kill and start at will."""

from __future__ import annotations

import signal
import socket
from pathlib import Path

from scripts.infra import LocalNats, free_port

__all__ = ["PrivateNats", "free_port", "free_ports"]


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


class PrivateNats(LocalNats):
    """A nats-server with JetStream of the test's own (never the shared one), to kill; with
    ``authorization`` (`libs.common.nats_access.server_config`) only its users get in.

    `scripts.infra.LocalNats` (what `make run` starts) on a free port, its store in ``store``
    and its log beside it, started again on the same port and store.
    """

    def __init__(self, store: Path, authorization: str | None = None) -> None:
        super().__init__(free_port(), store.parent, authorization)
        self.home = self.store = store
        self.log_path = store.with_name(f"{store.name}.log")

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

    def start(self, timeout_s: float = 15.0) -> None:
        """Start the server (again, on the same port and store) and wait for it to listen."""
        super().start(timeout_s)

    def kill(self) -> None:
        """Stop the server at once, as a crash would."""
        self.stop_signal = signal.SIGKILL
        try:
            self.stop()
        finally:
            self.stop_signal = signal.SIGTERM
