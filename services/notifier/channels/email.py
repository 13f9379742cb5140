"""Email through SMTP (`libs.common.smtp`), sent from a thread: smtplib blocks.

A plain-text part and an HTML part (every piece HTML-escaped). At most one message per
address per ``email_min_interval_s`` (a minute): a burst arrives as one digest, verification
codes excepted. A permanent refusal (5xx for the recipient or the message) kills the channel;
anything else (the server away, 4xx, our own login refused) is retried.
"""

from __future__ import annotations

import asyncio
import re
import smtplib
from email.message import EmailMessage
from email.utils import make_msgid

from libs.common.smtp import send_message
from services.notifier.channels.base import ChannelLimits, Outgoing, SendResult, Target
from services.notifier.domain.kinds import ChannelKind, Markup
from services.notifier.domain.markup import render, subject
from services.notifier.errors import InvalidTargetError
from services.notifier.runtime import Runtime

MAX_CHARS = 100_000
_ADDRESS = re.compile(r"^[^@\s<>\"',;]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}\.)+[A-Za-z]{2,63}$")
PERMANENT = 500


def check_address(address: str) -> tuple[str, str]:
    """Return ``(address, masked)`` (an address is shown as it is); raise otherwise."""
    address = address.strip()
    if len(address) > 254 or not _ADDRESS.match(address):
        raise InvalidTargetError("This is not an email address.", field="target")
    return address, address


def _permanent(exc: smtplib.SMTPException) -> int | None:
    """Return the 5xx code of a refusal that will never succeed, else None."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return next((c for c in codes if c >= PERMANENT), None)
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return None  # our credentials, not the trader's address
    if isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code >= PERMANENT:
        return exc.smtp_code
    return None


class EmailChannel:
    """Sends mail with the notifier's SMTP settings."""

    kind = ChannelKind.EMAIL

    def __init__(self, runtime: Runtime) -> None:
        self._rt = runtime

    def limits(self, target: Target) -> ChannelLimits:
        return ChannelLimits(
            min_interval_s=self._rt.settings.email_min_interval_s,
            max_chars=MAX_CHARS,
            max_notices=1000,
        )

    async def send(self, target: Target, message: Outgoing) -> SendResult:
        mail = self._message(target.address, message)
        try:
            await asyncio.to_thread(send_message, self._rt.settings.smtp_server(), mail)
        except smtplib.SMTPException as exc:
            code = _permanent(exc)
            if code is not None:
                return SendResult.dead(
                    f"the mail server refused the address ({code})", f"smtp_{code}"
                )
            return SendResult.retry(
                f"the mail server did not take it ({type(exc).__name__})", "smtp"
            )
        except OSError as exc:
            return SendResult.retry(
                f"the mail server cannot be reached ({type(exc).__name__})", "connect"
            )
        return SendResult.sent()

    def _message(self, to: str, message: Outgoing) -> EmailMessage:
        notices = message.notices
        mail = EmailMessage()
        mail["From"] = self._rt.settings.mail_from
        mail["To"] = to
        mail["Subject"] = subject(notices)
        mail["Message-ID"] = make_msgid(idstring=message.send_id, domain="sparky")
        mail["X-Sparky-Delivery"] = message.send_id
        mail.set_content(render(notices, Markup.PLAIN, max_chars=MAX_CHARS))
        html_text = render(notices, Markup.HTML, max_chars=MAX_CHARS).replace("\n", "<br>\n")
        mail.add_alternative(f"<html><body><p>{html_text}</p></body></html>", subtype="html")
        return mail
