"""Mail through SMTP (`libs.common.smtp`), sent from a thread: smtplib blocks."""

from __future__ import annotations

import asyncio
import logging
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid

from libs.common.smtp import send_message
from services.web.config import WebSettings
from services.web.errors import MailError
from services.web.metrics import EMAILS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Mail:
    """One message: to whom, its subject, its plain-text body and its kind (the label it is
    counted under: ``verify``, ``reset`` or ``notice``)."""

    to: str
    subject: str
    body: str
    kind: str


class Mailer:
    """Send `Mail` with the SMTP settings."""

    def __init__(self, settings: WebSettings) -> None:
        self._settings = settings

    async def send(self, mail: Mail) -> None:
        """Send ``mail``; raise `MailError` when the server cannot take it. Either way it is
        counted (``sparky_web_emails_total{kind, outcome}``)."""
        message = self._message(mail)
        try:
            await asyncio.to_thread(send_message, self._settings.smtp_server(), message)
        except (OSError, smtplib.SMTPException) as exc:
            EMAILS.labels(mail.kind, "failed").inc()
            log.warning("mail not sent: %s", type(exc).__name__)
            raise MailError("the mail server did not take the message") from exc
        EMAILS.labels(mail.kind, "sent").inc()

    def _message(self, mail: Mail) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self._settings.mail_from
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message["Message-ID"] = make_msgid(domain="sparky")
        message.set_content(mail.body)
        return message
