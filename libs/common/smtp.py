"""Sending mail through SMTP, the one way the web app and the notifier do it.

`SmtpSecurity` names how the connection is protected (none, STARTTLS, TLS from the start);
`SmtpServer` is where and how to send, built from a service's ``smtp_*`` settings;
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

from pydantic import SecretStr


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
