"""A local SMTP server that keeps every message where a person (or a test) can read it.

`make run` and the browser tests give the web app this server as its SMTP host: each message
it accepts is written to ``<folder>/<n>.eml`` (n counts from 1, in the order received), the
folder printed by `make run`. Nothing is relayed anywhere. It runs in a thread of the process
that starts it (aiosmtpd's `Controller`), so it stops with that process.

Tests use it too (the web app's and the notifier's): ``refuse`` names recipients it answers
``550 5.1.1`` at RCPT, as a server with no such user does; `wait_for` blocks, `until` is the
same wait for a test on an event loop (the app under test runs on that loop).

    python -m scripts.mailbox .devstack/mail          # list the messages, newest last
    python -m scripts.mailbox .devstack/mail --last   # print the newest one
"""

from __future__ import annotations

import argparse
import asyncio
import email.policy
import re
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from scripts.infra import LOOPBACK, free_port

_LINK = re.compile(r"https?://[^\s\"'<>]+")


@dataclass(frozen=True)
class Mail:
    """One message as received: who to, its subject and its text."""

    path: Path
    to: str
    subject: str
    text: str

    def links(self) -> list[str]:
        """Return the URLs in the message's text, in order."""
        return [link.rstrip(".,)") for link in _LINK.findall(self.text)]


def read_mail(path: Path) -> Mail:
    """Parse one ``.eml`` file the mailbox wrote."""
    message = BytesParser(policy=email.policy.default).parsebytes(path.read_bytes())
    body = message.get_body(preferencelist=("plain", "html"))
    text = body.get_content() if body is not None else ""
    return Mail(path=path, to=str(message["To"]), subject=str(message["Subject"]), text=text)


class _Keeper:
    """aiosmtpd's handler: refuse the ``refuse`` recipients; write each message's bytes to
    the next numbered file."""

    def __init__(self, folder: Path, refuse: frozenset[str]) -> None:
        self.folder = folder
        self.refuse = refuse
        self._lock = threading.Lock()

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address.lower() in self.refuse:
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        content = envelope.original_content or envelope.content
        raw = content if isinstance(content, bytes) else str(content).encode()
        with self._lock:
            number = len(list(self.folder.glob("*.eml"))) + 1
            target = self.folder / f"{number}.eml"
            tmp = target.with_suffix(".tmp")
            tmp.write_bytes(raw)
            tmp.replace(target)  # a reader never sees half a message
        return "250 Message kept"


class Mailbox:
    """The local SMTP server; ``port`` 0 takes a free one; ``refuse``: recipients answered
    ``550 5.1.1`` (no such user)."""

    def __init__(self, folder: Path, port: int = 0, refuse: Iterable[str] = ()) -> None:
        self.folder = folder
        self.port = port or free_port()
        self.refuse = frozenset(address.lower() for address in refuse)
        self._controller: Controller | None = None

    @property
    def host(self) -> str:
        return LOOPBACK

    def start(self) -> None:
        """Listen on ``127.0.0.1:port`` (in a thread) until `stop`."""
        self.folder.mkdir(parents=True, exist_ok=True)
        keeper = _Keeper(self.folder, self.refuse)
        self._controller = Controller(keeper, hostname=LOOPBACK, port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def messages(self) -> list[Mail]:
        """Every message received so far, oldest first."""
        paths = sorted(self.folder.glob("*.eml"), key=lambda p: int(p.stem))
        return [read_mail(path) for path in paths]

    def to(self, address: str) -> list[Mail]:
        """Every message to ``address`` so far, oldest first."""
        return [m for m in self.messages() if m.to.lower() == address.lower()]

    def wait_for(self, to: str, subject_contains: str = "", timeout_s: float = 30.0) -> Mail:
        """Return the newest message to ``to`` (whose subject contains the words), waiting
        up to ``timeout_s`` for it to arrive.
        """
        deadline = time.monotonic() + timeout_s
        while True:
            found = [
                m
                for m in self.messages()
                if to.lower() in m.to.lower() and subject_contains.lower() in m.subject.lower()
            ]
            if found:
                return found[-1]
            if time.monotonic() > deadline:
                raise TimeoutError(f"no mail to {to} ({subject_contains!r}) in {timeout_s} s")
            time.sleep(0.1)

    async def until(self, to: str, subject_contains: str = "", timeout_s: float = 30.0) -> Mail:
        """`wait_for` without blocking the event loop (it waits in a thread)."""
        return await asyncio.to_thread(self.wait_for, to, subject_contains, timeout_s)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Read the messages of make run's mailbox.")
    parser.add_argument("folder", type=Path, nargs="?", default=Path(".devstack/mail"))
    parser.add_argument("--last", action="store_true", help="print the newest message")
    args = parser.parse_args(argv)
    box = Mailbox(args.folder, port=1)
    mails = box.messages() if args.folder.exists() else []
    if not mails:
        print(f"no messages in {args.folder}")
        return 0
    if args.last:
        mail = mails[-1]
        print(f"To: {mail.to}\nSubject: {mail.subject}\n\n{mail.text}")
        return 0
    for mail in mails:
        print(f"{mail.path.name:>8}  {mail.to:<32}  {mail.subject}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
