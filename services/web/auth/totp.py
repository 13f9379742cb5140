"""TOTP (RFC 6238: 6 digits, 30 s, SHA-1, as authenticator apps expect): secrets, the
enrolment URI, and checking a code with one step of clock drift either way.
"""

from __future__ import annotations

import hmac
from datetime import datetime

import pyotp

STEP_S = 30
ISSUER = "Sparky"


def new_secret() -> str:
    """Return a new base32 secret (160 bits)."""
    return pyotp.random_base32(32)


def enrolment_uri(secret: str, email: str) -> str:
    """Return the ``otpauth://`` URI an authenticator app reads."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """Return the time step ``code`` is valid for (now, or one step either side), or None."""
    code = code.strip().replace(" ", "")
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = int(now.timestamp()) // STEP_S
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.at(step * STEP_S), code):
            return step
    return None
