"""Mail through SMTP (plain, STARTTLS or TLS), sent from a thread: smtplib blocks."""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid

from services.web.config import SmtpSecurity, WebSettings
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


class MailError(Exception):
    """The SMTP server could not be reached or refused the message."""


class Mailer:
    """Send `Mail` with the SMTP settings."""

    def __init__(self, settings: WebSettings) -> None:
        self._settings = settings

    async def send(self, mail: Mail) -> None:
        """Send ``mail``; raise `MailError` when the server cannot take it. Either way it is
        counted (``sparky_web_emails_total{kind, outcome}``)."""
        message = self._message(mail)
        try:
            await asyncio.to_thread(self._send_sync, message)
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

    def _send_sync(self, message: EmailMessage) -> None:
        settings = self._settings
        host, port, timeout = settings.smtp_host, settings.smtp_port, settings.smtp_timeout_s
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if settings.smtp_security is SmtpSecurity.TLS:
            smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
        else:
            smtp = smtplib.SMTP(host, port, timeout=timeout)
        with smtp:
            if settings.smtp_security is SmtpSecurity.STARTTLS:
                smtp.starttls(context=context)
            if settings.smtp_username and settings.smtp_password is not None:
                smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
            smtp.send_message(message)
