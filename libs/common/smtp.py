"""Sending mail through SMTP, the one way the web app and the notifier do it.

`SmtpSecurity` names how the connection is protected (none, STARTTLS, TLS from the start);
`SmtpSettings` is the ``smtp_*`` and ``mail_from`` settings to mix into a service's settings
(a service overrides a default by declaring the field again); `SmtpServer` is where and how to
send, as `SmtpSettings.smtp_server` gives it;
`send_message` hands one message over, blocking (smtplib): call it from a thread. What the
server's refusals mean is the caller's business (the notifier marks a channel dead on a 5xx,
the web app only logs), so smtplib's and the socket's exceptions go through unchanged.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from enum import StrEnum

from pydantic import BaseModel, Field, SecretStr


class SmtpSecurity(StrEnum):
    """How the connection to the SMTP server is protected."""

    NONE = "none"
    STARTTLS = "starttls"
    TLS = "tls"


@dataclass(frozen=True)
class SmtpServer:
    """An SMTP server and how to log in to it (no login without a username and password)."""

    host: str
    port: int
    security: SmtpSecurity = SmtpSecurity.NONE
    username: str | None = None
    password: SecretStr | None = None
    timeout_s: float = 10.0


def send_message(server: SmtpServer, message: EmailMessage) -> None:
    """Send ``message`` through ``server``; raise `smtplib.SMTPException` or `OSError`."""
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if server.security is SmtpSecurity.TLS:
        smtp = smtplib.SMTP_SSL(server.host, server.port, timeout=server.timeout_s, context=context)
    else:
        smtp = smtplib.SMTP(server.host, server.port, timeout=server.timeout_s)
    with smtp:
        if server.security is SmtpSecurity.STARTTLS:
            smtp.starttls(context=context)
        if server.username and server.password is not None:
            smtp.login(server.username, server.password.get_secret_value())
        smtp.send_message(message)


class SmtpSettings(BaseModel):
    """Mix into a service's settings: ``class XSettings(ServiceSettings, SmtpSettings)``."""

    smtp_host: str = Field(default="", description="SMTP server; empty: no mail is sent.")
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_security: SmtpSecurity = SmtpSecurity.NONE
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_s: float = Field(default=10.0, gt=0, le=120)
    mail_from: str = "Sparky <no-reply@sparky.localhost>"

    def smtp_server(self) -> SmtpServer:
        """Where and how this service sends mail."""
        return SmtpServer(
            host=self.smtp_host,
            port=self.smtp_port,
            security=self.smtp_security,
            username=self.smtp_username,
            password=self.smtp_password,
            timeout_s=self.smtp_timeout_s,
        )
