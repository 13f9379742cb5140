"""The mails the app sends, in plain words."""

from __future__ import annotations

from urllib.parse import quote

from services.web.mail import Mail


def verification(to: str, public_url: str, token: str, hours: float) -> Mail:
    """The link that proves ``to`` is the trader's."""
    link = f"{public_url}/verify?token={quote(token)}"
    return Mail(
        to=to,
        subject="Confirm your email for Sparky",
        body=f"Welcome to Sparky.\n\nOpen this link to confirm your email address:\n\n{link}\n\n"
        f"It works once, for {hours:g} hours. If you did not sign up, ignore this mail.\n",
        kind="verify",
    )


def already_registered(to: str, public_url: str) -> Mail:
    """Someone signed up with an address that has an account: tell its owner, not them."""
    return Mail(
        to=to,
        subject="Someone tried to sign up to Sparky with your email",
        body="Someone (perhaps you) tried to create a Sparky account with this email address, "
        "which already has one.\n\n"
        f"To sign in: {public_url}/login\nForgot your password? {public_url}/password/forgot\n\n"
        "If it was not you, nothing has changed and you can ignore this mail.\n",
        kind="notice",
    )


def password_reset(to: str, public_url: str, token: str, minutes: float) -> Mail:
    """The link that lets the trader choose a new password."""
    link = f"{public_url}/password/reset?token={quote(token)}"
    return Mail(
        to=to,
        subject="Reset your Sparky password",
        body=f"Open this link to choose a new password:\n\n{link}\n\n"
        f"It works once, for {minutes:g} minutes, and signs you out everywhere. If you did not "
        "ask for it, ignore this mail: your password stays as it is.\n",
        kind="reset",
    )
