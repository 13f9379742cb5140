"""The local mailbox keeps each message the web app sends, readable by a person and a test."""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from scripts.mailbox import Mailbox, main


@pytest.fixture
def mailbox(tmp_path: Path) -> Iterator[Mailbox]:
    box = Mailbox(tmp_path / "mail")
    box.start()
    yield box
    box.stop()


def _send(box: Mailbox, to: str, subject: str, text: str) -> None:
    message = EmailMessage()
    message["From"] = "Sparky <sparky@localhost>"
    message["To"] = to
    message["Subject"] = subject
    message.set_content(text)
    with smtplib.SMTP(box.host, box.port, timeout=5) as smtp:
        smtp.send_message(message)


def test_each_message_is_kept_as_a_numbered_file_with_its_links(mailbox: Mailbox) -> None:
    _send(
        mailbox,
        "a@example.com",
        "Verify your email",
        "Open http://127.0.0.1:8108/verify?token=abc.",
    )
    _send(mailbox, "b@example.com", "Reset your password", "Nothing to click")
    assert sorted(p.name for p in mailbox.folder.iterdir()) == ["1.eml", "2.eml"]
    mail = mailbox.wait_for("A@example.com", "verify", timeout_s=1)
    assert mail.links() == ["http://127.0.0.1:8108/verify?token=abc"]
    assert mailbox.wait_for("b@example.com", timeout_s=1).subject == "Reset your password"
    with pytest.raises(TimeoutError):
        mailbox.wait_for("c@example.com", timeout_s=0.2)


def test_the_command_lists_and_prints_the_messages(
    mailbox: Mailbox, capsys: pytest.CaptureFixture[str]
) -> None:
    _send(mailbox, "a@example.com", "Verify your email", "the text")
    assert main([str(mailbox.folder)]) == 0
    assert "a@example.com" in capsys.readouterr().out
    assert main([str(mailbox.folder), "--last"]) == 0
    assert "the text" in capsys.readouterr().out


def test_a_refused_recipient_gets_550_at_rcpt_and_nothing_is_kept(tmp_path: Path) -> None:
    box = Mailbox(tmp_path / "mail", refuse={"Gone@example.com"})
    box.start()
    try:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            _send(box, "gone@example.com", "Hello", "text")
        assert refused.value.recipients["gone@example.com"][0] == 550
        _send(box, "here@example.com", "Hello", "text")
        assert [m.to for m in box.messages()] == ["here@example.com"]
    finally:
        box.stop()


async def test_until_waits_without_blocking_the_loop(mailbox: Mailbox) -> None:
    waiting = asyncio.create_task(mailbox.until("a@example.com", "late", timeout_s=5))
    await asyncio.sleep(0)
    assert not waiting.done()
    await asyncio.to_thread(_send, mailbox, "a@example.com", "Late news", "text")
    assert (await waiting).subject == "Late news"
    assert [m.subject for m in mailbox.to("A@example.com")] == ["Late news"]
